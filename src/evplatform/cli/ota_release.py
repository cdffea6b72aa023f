"""`evplatform ota release|records|delta`: publish a release, export update records, make a delta.

Added to the ``ota`` group by ``cli/ota.py`` (``add_commands``). The OTA folder (``--root``) is
the one ``evplatform ota init`` creates: images go to ``<root>/images/<sha256>``, the release
catalogue to ``<root>/releases/``, and the images are listed in ``<root>/image`` (the Image
repository, offline targets key) when that repository exists. Publishing itself is
``evplatform.fleet.release_publishing.publish_release``, the same call the API makes; this
module parses options, opens the keys and renders.
"""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.table import Table
from typer.core import TyperGroup

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, err_console, print_json
from evplatform.cli.ota_options import (
    DEFAULT_ROOT,
    InsecureDemoKeysOpt,
    KeysOpt,
    PassphraseEnvOpt,
    RootOpt,
    keyring_of,
)
from evplatform.errors import OtaError
from evplatform.fleet.release_publishing import ReleasePublication, publish_release
from evplatform.fleet.update_records import update_records
from evplatform.ota.delta import ALGORITHMS, FULL, apply_delta, make_delta
from evplatform.ota.metadata_common import system_clock
from evplatform.ota.publishing import ImageSigning, has_image_repository, open_image_signing
from evplatform.ota.records import to_csv, to_json
from evplatform.service.details import RELEASE_TABLES, release_payload, release_table_csv
from evplatform.store import default_database_url, open_store
from evplatform.workspace import load_workspace
from evplatform.workspace.loader import demo_path

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or the workspace's .evplatform/)."),
]


class PublishByDefault(TyperGroup):
    """``ota release MANIFEST`` publishes (as it always did); ``ota release show ID`` shows a release.

    Anything that is not a subcommand's name is handed to ``publish``, so existing scripts keep working.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] != "--help":
            args = ["publish", *args]
        return super().parse_args(ctx, args)


def add_commands(ota_app: typer.Typer) -> None:
    """Register ``release`` (``publish`` by default, ``show``), ``records`` and ``delta`` on the ``ota`` group."""
    release_app = typer.Typer(cls=PublishByDefault, no_args_is_help=True,
                              help="Publish a release (ota release MANIFEST) or show one (ota release show ID).")
    release_app.command("publish")(release_command)
    release_app.command("show")(show_command)
    ota_app.add_typer(release_app, name="release")
    ota_app.command("records")(records_command)
    ota_app.command("delta")(delta_command)


# --- release ------------------------------------------------------------------------------------


def release_command(
    manifest: Annotated[Path, typer.Argument(help="Release manifest (YAML or JSON).")],
    workspace: WorkspaceArg = None,
    root: RootOpt = DEFAULT_ROOT,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    no_repository: Annotated[
        bool, typer.Option("--no-repository", help="Store images and deltas only; do not sign the Image repository.")
    ] = False,
    database: Annotated[
        str | None, typer.Option("--database", help="Also register the release in this fleet database (for campaigns).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish a release: validate the manifest, store its images, build deltas from the previous release, list
    the images in the Image repository."""
    ws = load_workspace(workspace)
    signing = None if no_repository else partial(_image_signing, root, keys, passphrase_env, insecure_demo_keys)
    store = open_store(database) if database else None
    try:
        with err_console.status("storing images and building deltas…"):
            done = publish_release(manifest, ws, root, signing=signing, store=store)
    finally:
        if store is not None:
            store.dispose()
    _render_release(done, root, as_json)


def _image_signing(root: Path, keys: Path | None, passphrase_env: str | None,
                   insecure_demo_keys: bool = False) -> ImageSigning | None:
    """The Image repository and its targets signers, or None (with a warning) when there is none yet."""
    if not has_image_repository(root):
        err_console.print(f"[yellow]no Image repository in {root} (evplatform ota init): images stored, not signed[/]")
        return None
    return open_image_signing(root, system_clock, keyring_of(root, keys, passphrase_env, insecure_demo_keys))


def _render_release(done: ReleasePublication, root: Path, as_json: bool) -> None:
    release, targets_version, registered = done.release, done.publication.targets_version, done.database_releases
    rows = [p.to_dict() for p in done.publication.images]
    if as_json:
        print_json({"root": str(root), **done.to_dict()})
        return
    table = Table(title=f"release {release.id} ({release.version}) in {root}", title_justify="left")
    for column in ("ECU", "component", "hardware id", "target", "sha256", "bytes", "delta from", "delta", "× image"):
        table.add_column(column, justify="right" if column in ("bytes", "× image") else "left")
    for r in rows:
        d = r["delta"]
        table.add_row(
            r["ecu"], r["component"], r["hardware_id"], r["target"], r["sha256"][:12] + "…", f"{r['length']:,}",
            d["from_release"] if d else "—", f"{d['algorithm']} {d['patch_length']:,} B" if d else "—",
            f"{d['patch_length'] / max(1, d['new_length']):.3f}" if d else "—",
        )
    console.print(table)
    signed = f"Image repository targets v{targets_version}" if targets_version else "not signed (no Image repository)"
    console.print(f"RXSWIN: {', '.join(f'{k} → {v}' for k, v in sorted(release.rxswin.items())) or '—'}; {signed}")
    if registered:
        console.print(f"registered in the fleet database: {', '.join(registered)}")


def show_command(
    release_id: Annotated[str, typer.Argument(help="The release's id (as in the fleet database).")],
    workspace: WorkspaceArg = None,
    root: RootOpt = DEFAULT_ROOT,
    database: DatabaseOpt = None,
    table: Annotated[str | None, typer.Option("--table", help="Write one table as CSV (with --output): "
                                              + ", ".join(RELEASE_TABLES) + ".")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="File for --table.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One release: approvals, campaigns, images and deltas against the fleet's versions, RXSWIN change and
    stability over time ("too young" until 7 days after its first install), as GET /api/releases/{id}."""
    if table is not None and (table not in RELEASE_TABLES or output is None):
        raise OtaError(f"--table needs --output FILE and one of {', '.join(RELEASE_TABLES)} (got {table!r})")
    base = workspace or demo_path()
    store = open_store(database or default_database_url(base, bundled=workspace is None))
    try:
        data = release_payload(store, release_id, root)
    finally:
        store.dispose()
    if table is not None and output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(release_table_csv(data, table), encoding="utf-8", newline="")
    if as_json:
        print_json(data | {"written": str(output) if table else None})
        return
    _render_release_detail(data)


def _render_release_detail(r: dict[str, Any]) -> None:
    k = r["stability"]
    crash_free = "too young" if k["too_young"] else f"{100 * k['crash_free_7d']:.2f} %"
    console.print(f"[bold]{r['id']}[/]: {r['component']} {r['version']} for {r['ecu']} ({r['hardware_id']}); "
                  f"{k['reports']:,} reports, crash-free 7 d {crash_free}", highlight=False)
    approvals = Table(title="Approvals", title_justify="left")
    for column in ("market", "authority", "reference", "when", "who"):
        approvals.add_column(column)
    for a in r["approvals"]:
        approvals.add_row(a["market"], a["authority"], a["reference"], a["approved_at"] or "—", a["approved_by"])
    console.print(approvals)
    versions = Table(title="Versions in the fleet", title_justify="left")
    for column in ("version", "vehicles", "download", "bytes"):
        versions.add_column(column, justify="right" if column in ("vehicles", "bytes") else "left")
    for f in r["fleet_versions"]:
        versions.add_row(f["version"] or "none", f"{f['vehicles']:,}", f["download"],
                         "—" if f["bytes"] is None else f"{f['bytes']:,}")
    console.print(versions)
    if not r["published"]:
        console.print("not in this OTA folder's release catalogue: image hashes, sizes and deltas unknown")
    for i in r["images"]:
        delta = i["delta"]
        console.print(f"image {i['ecu']} {i['sha256'][:16]}… {i['length']:,} B"
                      + (f", delta from {delta['from_release']} {delta['patch_length']:,} B" if delta else ""),
                      highlight=False)
    console.print("campaigns: " + (", ".join(f"#{c['id']} {c['name']} ({c['state']})" for c in r["campaigns"])
                                   or "none"), highlight=False)


# --- records ------------------------------------------------------------------------------------


def records_command(
    workspace: WorkspaceArg = None,
    campaign: Annotated[int | None, typer.Option("--campaign", help="Records of this campaign id.")] = None,
    vin: Annotated[str | None, typer.Option("--vin", help="Records of this vehicle.")] = None,
    database: DatabaseOpt = None,
    export_format: Annotated[str, typer.Option("--format", help="File format for --out: csv or json.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="Write the export to this file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """UN R156 / GB 44496 update records of a campaign or a vehicle, for homologation audits (CSV or JSON)."""
    if export_format not in ("csv", "json"):
        raise OtaError(f"unknown export format {export_format!r}: csv or json")
    root = workspace or demo_path()
    store = open_store(database or default_database_url(root, bundled=workspace is None))
    try:
        records = update_records(store, campaign_id=campaign, vin=vin)
    finally:
        store.dispose()
    if out is not None:
        text = to_csv(records) if export_format == "csv" else to_json(records)
        out.parent.mkdir(parents=True, exist_ok=True)
        temporary = out.with_name(out.name + ".tmp")
        temporary.write_text(text, encoding="utf-8", newline="")
        temporary.replace(out)
    if as_json:
        print_json(json.loads(to_json(records)) | {"written": str(out) if out else None})
        return
    table = Table(title=f"{len(records)} update record(s)", title_justify="left")
    for column in ("reported", "VIN", "release", "outcome", "RXSWIN before → after", "compatible", "preconditions",
                   "consent", "approved by"):
        table.add_column(column)
    for r in records[:50]:
        table.add_row(
            r.reported_at.strftime("%Y-%m-%d %H:%M"), r.vin, r.release_id, r.outcome,
            f"{r.rxswin_before or '—'} → {r.rxswin_after or '—'}", _yes_no(r.compatibility.result),
            _yes_no(r.preconditions.result), r.information.consent or "—",
            ", ".join(sorted({a.approved_by for a in r.approvals})) or "—",
        )
    console.print(table)
    if len(records) > 50:
        console.print(f"… {len(records) - 50} more (use --out FILE for all of them)")
    if out is not None:
        console.print(f"written {out} ({export_format})")


def _yes_no(value: bool | None) -> str:
    return "not recorded" if value is None else ("yes" if value else "[red]no[/]")


# --- delta --------------------------------------------------------------------------------------


def delta_command(
    old: Annotated[Path, typer.Argument(help="Image installed now.")],
    new: Annotated[Path, typer.Argument(help="Image to install.")],
    algorithm: Annotated[
        str | None, typer.Option("--algorithm", help=f"One of {', '.join((*ALGORITHMS, FULL))} (default hdiffpatch).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the patch here, its metadata to OUT.json.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a delta image from OLD to NEW, check that it rebuilds NEW, and report sizes and times."""
    try:
        old_bytes, new_bytes = old.read_bytes(), new.read_bytes()
    except OSError as error:
        raise OtaError(f"cannot read image {error.filename}: {error.strerror}") from error
    with err_console.status(f"building the delta ({algorithm or 'hdiffpatch'})…"):
        started = time.perf_counter()
        delta = make_delta(old_bytes, new_bytes, algorithm)
        create_s = time.perf_counter() - started
        started = time.perf_counter()
        apply_delta(old_bytes, delta, delta.new_sha256)
        apply_s = time.perf_counter() - started
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(delta.payload)
        out.with_name(out.name + ".json").write_text(json.dumps(delta.metadata(), indent=2) + "\n", encoding="utf-8")
    figures = {**delta.metadata(), "requested": algorithm or "hdiffpatch", "ratio": round(delta.ratio, 6),
               "create_s": round(create_s, 3), "apply_s": round(apply_s, 3), "written": str(out) if out else None}
    if as_json:
        print_json(figures)
        return
    table = Table(title=f"delta {old.name} → {new.name}", title_justify="left")
    table.add_column("")
    table.add_column("value", justify="right")
    for label, value in (
        ("algorithm", delta.algorithm + (" (fallback: no patch paid)" if delta.algorithm == FULL and algorithm != FULL
                                         else "")),
        ("old image", f"{delta.old_length:,} B"), ("new image", f"{delta.new_length:,} B"),
        ("patch", f"{delta.patch_length:,} B"), ("compressed full image", f"{delta.full_length:,} B"),
        ("patch / new image", f"{delta.ratio:.4f}"), ("create", f"{create_s:.2f} s"),
        ("apply + verify", f"{apply_s:.3f} s"),
        ("patch sha256", delta.patch_sha256),
    ):
        table.add_row(label, value)
    console.print(table)
