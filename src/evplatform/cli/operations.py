"""`evplatform backup | restore | migrate | retention`: operating a fleet server (docs/operations.md).

The work is in ``store.backup``, ``store.migrate`` and ``store.retention``; this module parses
options, draws progress on stderr (so ``--json`` on stdout stays parseable) and renders results.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from evplatform.cli.actor import DEFAULT_ACTOR, ActorOpt
from evplatform.cli.common import JsonOpt, console, err_console, print_json
from evplatform.store import backup as backups
from evplatform.store import default_database_url, open_store
from evplatform.store.migrate import MigrationPlan, migrate_to, upgrade_sql
from evplatform.store.retention import DEFAULT_BATCH, MAX_BATCH, MAX_KEEP_DAYS, purge_telemetry

OTA_ENV = "EVPLATFORM_OTA_ROOT"
DEFAULT_OTA = Path(".evplatform") / "ota"

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or ./.evplatform/evplatform.db)."),
]
OtaRootOpt = Annotated[
    Path | None,
    typer.Option("--ota-root", envvar=OTA_ENV, show_default=False,
                 help=f"The OTA server folder (default: ${OTA_ENV}, else ./.evplatform/ota)."),
]


@contextmanager
def _progress(enabled: bool) -> Iterator[backups.Progress]:
    """A Rich progress display on stderr fed by the store's ``progress(task, done, total)`` callback."""
    if not enabled:
        yield lambda _task, _done, _total: None
        return
    tasks: dict[str, TaskID] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as bar:
        def update(task: str, done: int, total: int | None) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total)
            bar.update(tasks[task], completed=done, total=total)

        yield update


def _ota_for_backup(ota_root: Path | None) -> Path | None:
    """The given folder, else ./.evplatform/ota when it holds repositories, else none (database only)."""
    if ota_root is not None:
        return ota_root
    return DEFAULT_OTA if (DEFAULT_OTA / "image").is_dir() else None


def backup_command(
    dest: Annotated[Path, typer.Argument(help="New folder for the backup (must not exist, or be empty).")],
    database: DatabaseOpt = None,
    ota_root: OtaRootOpt = None,
    include_keys: Annotated[bool, typer.Option("--include-keys",
                                               help="Also copy the OTA server's online keys (keys/).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Back up the database and the OTA repositories into DEST, with a manifest of sha256 hashes.

    Safe while the server runs (SQLite: online backup API; PostgreSQL: pg_dump). Written into
    DEST.partial and renamed at the end.
    """
    url = database or default_database_url()
    root = _ota_for_backup(ota_root)
    if include_keys:
        err_console.print("[bold yellow]warning:[/] --include-keys: this backup holds the server's ONLINE SIGNING "
                          "KEYS; whoever reads it can sign metadata the fleet trusts. Encrypt it and guard it like the "
                          "keys themselves.", highlight=False, soft_wrap=True)
    with _progress(not as_json) as progress:
        result = backups.backup(url, dest, ota_root=root, include_keys=include_keys, progress=progress)
    manifest = result.manifest
    if as_json:
        print_json({"folder": str(result.folder), "files": result.files, "bytes": result.total_bytes,
                    "keys_included": include_keys, **{k: manifest[k] for k in
                                                      ("created_at", "evplatform_version", "database", "ota")}})
        return
    database_info = manifest["database"]
    console.print(f"backup {result.folder}: {result.files:,} files, {result.total_bytes:,} bytes; "
                  f"{database_info['dialect']} database at revision {database_info['revision']}; "
                  f"OTA folder {'included' if root else 'not included (none found)'}"
                  f"{', WITH ONLINE KEYS' if include_keys else ''}", highlight=False)


def restore_command(
    source: Annotated[Path, typer.Argument(help="A backup folder made by `evplatform backup`.")],
    database: DatabaseOpt = None,
    ota_root: OtaRootOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a database with tables / a non-empty OTA folder.")]
    = False,
    as_json: JsonOpt = False,
) -> None:
    """Verify every file of a backup against its manifest, then restore it into an empty database and OTA folder."""
    url = database or default_database_url()
    with _progress(not as_json) as progress:
        result = backups.restore(source, url, ota_root=ota_root or DEFAULT_OTA, force=force, progress=progress)
    if as_json:
        print_json({"database": result.database, "dialect": result.dialect, "revision": result.revision,
                    "ota_root": str(result.ota_root) if result.ota_root else None, "files": result.files,
                    "bytes": result.total_bytes, "keys_restored": result.keys_restored, "replaced": result.replaced})
        return
    console.print(f"restored {result.files:,} files ({result.total_bytes:,} bytes, hashes verified): "
                  f"{result.dialect} database {result.database} at revision {result.revision}"
                  f"{f'; OTA folder {result.ota_root}' if result.ota_root else ''}", highlight=False)
    if result.ota_root and not result.keys_restored and not (result.ota_root / "keys").is_dir():
        err_console.print(f"note: the backup has no online keys; put the server's online keys in "
                          f"{result.ota_root}/keys before serving (docs/operations.md, docs/ota-key-ceremony.md).",
                          highlight=False, soft_wrap=True)


def _plan_json(planned: MigrationPlan) -> dict[str, Any]:
    return {"from": planned.from_revision, "to": planned.to_revision,
            "applied": [{"revision": s.revision, "description": s.description} for s in planned.steps]}


def migrate_command(
    database: DatabaseOpt = None,
    to: Annotated[str | None, typer.Option("--to", help="Target revision (default: the newest, 'head').")] = None,
    sql: Annotated[bool, typer.Option("--sql", help="Print the SQL instead of running it (PostgreSQL).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Upgrade the database schema explicitly, printing from → to (servers also migrate on open)."""
    url = database or default_database_url()
    with open_store(url, migrate=False) as store:
        if sql:
            planned, text = upgrade_sql(store, to)
            if as_json:
                print_json({**_plan_json(planned), "ran": False, "sql": text})
            else:
                typer.echo(text, nl=False)
            return
        planned = migrate_to(store, to)
    if as_json:
        print_json({**_plan_json(planned), "ran": bool(planned.steps)})
        return
    if not planned.steps:
        console.print(f"database already at revision {planned.to_revision}; nothing to do", highlight=False)
        return
    console.print(f"migrated {planned.from_revision or 'an empty database'} → {planned.to_revision}:", highlight=False)
    for step in planned.steps:
        console.print(f"  {step.revision}  {step.description}", highlight=False)


def retention_command(
    keep_telemetry_days: Annotated[int, typer.Option("--keep-telemetry-days", min=1, max=MAX_KEEP_DAYS,
                                                     help="Keep telemetry of the last N days (server clock).")],
    database: DatabaseOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, max=MAX_BATCH, help="Rows per transaction.")]
    = DEFAULT_BATCH,
    actor: ActorOpt = DEFAULT_ACTOR,
    parquet: Annotated[Path | None, typer.Option("--parquet", help="Telemetry Parquet partitions to apply "
                                                                 "--keep-category to (evplatform ingest --parquet).")
                       ] = None,
    keep_category: Annotated[list[str] | None, typer.Option(
        "--keep-category", help="CATEGORY=DAYS for the Parquet partitions (driving, safety); repeatable.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete telemetry older than N days, in bounded batches; run it daily (docs/operations.md)."""
    from evplatform.fleet.mqtt_ingest import forget_batch_ids
    from evplatform.fleet.telemetry_parquet import parse_keep, purge_partitions

    keep = parse_keep(keep_category or [])
    if keep and parquet is None:
        raise typer.BadParameter("--keep-category needs --parquet DIR")
    with open_store(database or default_database_url()) as store:
        result = purge_telemetry(store, keep_telemetry_days, dry_run=dry_run, batch_size=batch, actor=actor)
        partitions = purge_partitions(parquet, keep, store.now(), dry_run=dry_run) if parquet else []
        forgotten = forget_batch_ids(store, dry_run=dry_run)
    if as_json:
        print_json({"keep_days": result.keep_days, "cutoff": result.cutoff.isoformat(), "dry_run": result.dry_run,
                    "per_kind": result.per_kind, "total": result.total, "batches": result.batches,
                    "batch_ids_forgotten": forgotten,
                    "parquet": [{"category": p.category, "keep_days": p.keep_days, "cutoff": p.cutoff.isoformat(),
                                 "day_partitions": p.partitions} for p in partitions]})
        return
    for p in partitions:
        console.print(f"{'would delete' if dry_run else 'deleted'} {p.partitions} Parquet day partitions of "
                      f"{p.category} before {p.cutoff}", highlight=False)
    verb = "would delete" if result.dry_run else "deleted"
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(result.per_kind.items())) or "none"
    console.print(f"{verb} {result.total:,} telemetry readings recorded before {result.cutoff:%Y-%m-%d %H:%M} UTC "
                  f"({kinds}){'' if result.dry_run else f' in {result.batches:,} batches'}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
    app.command("migrate")(migrate_command)
    app.command("retention")(retention_command)
