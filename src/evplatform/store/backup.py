"""Backup and restore of a fleet server: its database and its OTA folder, in one verified folder.

A backup is a folder::

    DEST/manifest.json            what, when (server clock), versions, sha256 and size of every file
    DEST/database/evplatform.db   SQLite: a page-consistent copy (``sqlite3.Connection.backup``)
    DEST/database/evplatform.dump PostgreSQL: ``pg_dump -Fc`` (restored with ``pg_restore``)
    DEST/ota/…                    the OTA folder (image/, director/, images/; keys/ only on request)

Why these choices:

* SQLite's online backup API copies pages under the database's own locks, so the copy is one
  consistent state even while the server writes (WAL mode: the writer is not blocked); copying the
  file with ``cp`` could catch half a transaction.
* The backup is written to ``DEST.partial`` and renamed at the end: a crash leaves no folder that
  looks like a backup and is not one.
* Restore hashes every file against the manifest before it writes anything: a corrupted or
  edited backup is refused whole, naming the file. The manifest is not signed, so the hashes
  prove integrity (no bit rot, no truncated copy), not who made the backup; keep backups where
  only operators can write.
* The online keys stay out of a backup unless asked for: whoever reads a backup with keys can
  sign timestamp and snapshot metadata the fleet accepts.

Progress is reported through a callback (``Progress``); this module never prints.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

import evplatform
from evplatform.clock import Clock, aware_now, system_clock
from evplatform.errors import StoreError
from evplatform.store._sql import redact
from evplatform.store.database import create_store_engine
from evplatform.store.migrate import current_revision, head_revision

logger = logging.getLogger(__name__)

FORMAT = "evplatform-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database/evplatform.db"
PG_FILE = "database/evplatform.dump"
OTA_DIR = "ota"
KEYS_DIR = "keys"
CHUNK = 1024 * 1024
SQLITE_PAGES_PER_STEP = 1024  # pages per step: progress is reported between steps
STABLE_TRIES = 5  # copies of the OTA metadata before giving up on a folder that keeps changing
SUBPROCESS_TIMEOUT_S = 6 * 3600

#: ``progress(task, done, total)``: ``total`` is None while unknown; units are bytes or pages as ``task`` says.
Progress = Callable[[str, int, int | None], None]


def _no_progress(_task: str, _done: int, _total: int | None) -> None:
    return None


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What ``backup`` wrote: the folder and its manifest (also in ``folder/manifest.json``)."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def files(self) -> int:
        return len(self.manifest["files"])

    @property
    def total_bytes(self) -> int:
        return sum(int(f["bytes"]) for f in self.manifest["files"].values())


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What ``restore`` wrote: the database (URL without password), the OTA folder, files and bytes."""

    database: str
    dialect: str
    revision: str | None
    ota_root: Path | None
    files: int
    total_bytes: int
    keys_restored: bool
    replaced: list[str] = field(default_factory=list)


# -- backup -------------------------------------------------------------------------------------------


def backup(
    url: str, dest: Path, *, ota_root: Path | None = None, include_keys: bool = False,
    clock: Clock = system_clock, progress: Progress = _no_progress,
) -> BackupResult:
    """Copy the database at ``url`` and the OTA folder ``ota_root`` (if any) into the new folder ``dest``.

    Refuses a ``dest`` that exists and is not empty. Everything is written into ``dest.partial``,
    which becomes ``dest`` only when the manifest is complete.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StoreError(f"{dest}: exists and is not an empty folder; a backup goes into a new folder")
    if ota_root is not None and not (Path(ota_root) / "image").is_dir():
        raise StoreError(f"{ota_root}: not an OTA server folder (no image/ repository in it)")
    partial = dest.with_name(dest.name + ".partial")
    if partial.exists():
        logger.warning("removing %s left by an interrupted backup", partial)
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        started = aware_now(clock)
        database = _backup_database(url, partial, progress)
        files = {str(database["file"]): database.pop("hash")}
        ota: dict[str, Any] | None = None
        if ota_root is not None:
            ota_files = _copy_ota(Path(ota_root), partial / OTA_DIR, include_keys, progress)
            files.update({f"{OTA_DIR}/{name}": entry for name, entry in ota_files.items()})
            ota = {"root": str(Path(ota_root).resolve()), "keys_included": include_keys}
            if include_keys:  # private keys: only the owner may enter the backup (or its keys/) at all
                os.chmod(partial, 0o700)
                if (partial / OTA_DIR / KEYS_DIR).is_dir():
                    os.chmod(partial / OTA_DIR / KEYS_DIR, 0o700)
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "created_at": started.isoformat(), "finished_at": aware_now(clock).isoformat(),
            "evplatform_version": evplatform.__version__, "schema_head": head_revision(),
            "database": database, "ota": ota,
            "files": dict(sorted(files.items())),
        }
        _write_synced(partial / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
        if dest.exists():
            dest.rmdir()  # empty, checked above
        partial.rename(dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupResult(dest, manifest)


def _backup_database(url: str, folder: Path, progress: Progress) -> dict[str, Any]:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and not _sqlite_path(url).is_file():  # before connecting, which would create it
        raise StoreError(f"no database file at {_sqlite_path(url)}")
    revision = _revision(url)
    if backend == "sqlite":
        source = _sqlite_path(url)
        target = folder / SQLITE_FILE
        target.parent.mkdir(parents=True)
        _sqlite_copy(source, target, progress, "database (pages)")
        return {"dialect": "sqlite", "url": redact(url), "revision": revision, "file": SQLITE_FILE,
                "hash": _hash_file(target), "sqlite_version": sqlite3.sqlite_version}
    if backend == "postgresql":
        target = folder / PG_FILE
        target.parent.mkdir(parents=True)
        tool = _pg_tool("pg_dump")
        progress("database (pg_dump)", 0, None)
        _run_pg([tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], url)
        progress("database (pg_dump)", target.stat().st_size, target.stat().st_size)
        return {"dialect": "postgresql", "url": redact(url), "revision": revision, "file": PG_FILE,
                "hash": _hash_file(target), "pg_dump_version": _tool_version(tool)}
    raise StoreError(f"cannot back up a {backend} database ({redact(url)}): SQLite and PostgreSQL only")


def _revision(url: str) -> str | None:
    engine = create_store_engine(url)
    try:
        return current_revision(_Bound(engine, url))
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class _Bound:
    """An engine and its URL: what ``store.migrate`` needs, without opening (and migrating) a store."""

    engine: Any
    url: str


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise StoreError(f"{redact(url)}: only a SQLite database in a file can be backed up or restored")
    return Path(database)


def _sqlite_copy(source: Path, target: Path, progress: Progress, task: str) -> None:
    """The online backup API, a few pages a step, inside one read transaction on the source.

    The read transaction pins one snapshot (WAL mode: writers go on appending to the log), so the
    copy is that snapshot page for page and never restarts, however busy the writer; without it,
    SQLite restarts a stepped backup whenever another connection writes. The copy ends in
    rollback-journal mode: one self-contained file.
    """

    def step(_status: int, remaining: int, total: int) -> None:
        progress(task, total - remaining, total)

    try:
        src = sqlite3.connect(source, timeout=30, isolation_level=None)
        try:
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts at the first read
            dst = sqlite3.connect(target)
            try:
                src.backup(dst, pages=SQLITE_PAGES_PER_STEP, progress=step)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
            src.execute("COMMIT")
        finally:
            src.close()
    except sqlite3.Error as error:
        raise StoreError(f"copying SQLite database {source} to {target} failed: {error}") from error


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StoreError(f"{name} not found on PATH: install the PostgreSQL client tools (Debian: apt install "
                         f"postgresql-client) in a version at least the server's")
    return found


def _tool_version(tool: str) -> str:
    done = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False,  # noqa: S603 - no shell
                          timeout=60)
    return done.stdout.strip()


def _run_pg(command: list[str], url: str) -> None:
    """Run pg_dump/pg_restore on ``url``; the password goes in the environment, never on the command line."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    libpq = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    try:
        # no shell: the tool found by shutil.which, fixed options, and the URL as one argument
        done = subprocess.run([*command, f"--dbname={libpq}"], capture_output=True, text=True, env=env,  # noqa: S603
                              check=False, timeout=SUBPROCESS_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise StoreError(f"{Path(command[0]).name} on {redact(url)} failed: {error}") from error
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()
        raise StoreError(f"{Path(command[0]).name} on {redact(url)} failed (exit {done.returncode}): "
                         f"{' / '.join(message[:5]) or 'no message'}")


def _copy_ota(root: Path, target: Path, include_keys: bool, progress: Progress) -> dict[str, dict[str, Any]]:
    """Copy the OTA folder, then again what changed meanwhile, until a pass finds nothing changed.

    A release published during the copy rewrites several metadata files; copying them again
    until two passes agree gives one published state, not half of two.
    """
    sources = _ota_files(root, include_keys)
    total = sum(path.stat().st_size for path in sources.values())
    done = 0
    copied: dict[str, dict[str, Any]] = {}
    seen: dict[str, tuple[int, int]] = {}
    for name, path in sources.items():
        seen[name] = _stat(path)
        copied[name] = _copy_hashing(path, target / name)
        done += copied[name]["bytes"]
        progress("OTA folder (bytes)", done, total)
    for _ in range(STABLE_TRIES):
        now = _ota_files(root, include_keys)
        changed = [n for n, p in now.items() if seen.get(n) != _stat(p)]
        gone = [n for n in copied if n not in now]
        if not changed and not gone:
            return copied
        logger.info("OTA folder changed during the backup (%d files); copying them again", len(changed) + len(gone))
        for name in gone:
            (target / name).unlink()
            del copied[name], seen[name]
        for name in changed:
            seen[name] = _stat(now[name])
            copied[name] = _copy_hashing(now[name], target / name)
    raise StoreError(f"{root}: the OTA folder kept changing during {STABLE_TRIES} copies; back up again when "
                     "no release is being published")


def _stat(path: Path) -> tuple[int, int]:
    """Size and modification time: a file rewritten in place or replaced by a rename changes one of them."""
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def _ota_files(root: Path, include_keys: bool) -> dict[str, Path]:
    """Relative POSIX name -> path of every file in the OTA folder (symlinks followed for files only)."""
    found: dict[str, Path] = {}
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        if here == root and not include_keys and KEYS_DIR in dirs:
            dirs.remove(KEYS_DIR)
        dirs.sort()
        for name in sorted(names):
            path = here / name
            if path.is_file():
                found[path.relative_to(root).as_posix()] = path
    return found


def _copy_hashing(source: Path, target: Path) -> dict[str, Any]:
    """Copy one file, hashing what was written; fsync'd so the rename at the end publishes whole files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    shutil.copystat(source, target)
    return {"sha256": digest.hexdigest(), "bytes": size}


def _hash_file(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "bytes": size}


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as writer:
        writer.write(data)
        writer.flush()
        os.fsync(writer.fileno())


# -- restore ------------------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of the backup folder ``source``; StoreError if it is missing or not one of ours."""
    path = Path(source) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StoreError(f"{path}: not a readable backup manifest: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError(f"{path}: not an evplatform backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise StoreError(f"{path}: backup format version {manifest.get('format_version')!r}; this evplatform "
                         f"reads version {FORMAT_VERSION}")
    if not isinstance(manifest.get("files"), dict) or not isinstance(manifest.get("database"), dict):
        raise StoreError(f"{path}: the manifest lists no files or no database")
    return manifest


def verify(source: Path, progress: Progress = _no_progress) -> dict[str, Any]:
    """Hash every file of the backup against its manifest; StoreError naming the first file that differs.

    Files in the folder that the manifest does not list are refused too: a backup is exactly what
    its manifest says.
    """
    source = Path(source)
    manifest = read_manifest(source)
    listed: dict[str, Any] = manifest["files"]
    total = sum(int(entry.get("bytes", 0)) for entry in listed.values())
    done = 0
    for name, entry in listed.items():
        path = _inside(source, name)
        if not path.is_file():
            raise StoreError(f"backup {source}: {name} is listed in the manifest but missing")
        actual = _hash_file(path)
        if actual["sha256"] != entry.get("sha256") or actual["bytes"] != entry.get("bytes"):
            raise StoreError(f"backup {source}: {name} does not match the manifest (sha256 {actual['sha256'][:16]}…, "
                             f"{actual['bytes']:,} bytes; expected {str(entry.get('sha256'))[:16]}…, "
                             f"{entry.get('bytes')} bytes): damaged or edited, nothing restored")
        done += actual["bytes"]
        progress("verifying (bytes)", done, total)
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        name = path.relative_to(source).as_posix()
        if name != MANIFEST and name not in listed:
            raise StoreError(f"backup {source}: {name} is not in the manifest; nothing restored")
    return manifest


def _inside(source: Path, name: str) -> Path:
    """``source/name`` for a plain relative name: no ``..``, ``.``, empty parts, backslashes or absolute paths.

    The manifest is not signed, so its names are checked before they become paths here and under
    the restore target (a name like ``ota/../../x`` would write outside it).
    """
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise StoreError(f"backup {source}: manifest entry {name!r} is not a plain relative path")
    path = (source / name).resolve()
    if not path.is_relative_to(source.resolve()):
        raise StoreError(f"backup {source}: manifest entry {name!r} points outside the backup")
    return path


def restore(
    source: Path, url: str, *, ota_root: Path | None = None, force: bool = False,
    progress: Progress = _no_progress,
) -> RestoreResult:
    """Verify the backup in ``source``, then restore its database into ``url`` and its OTA folder into ``ota_root``.

    Both targets must be empty (no tables; no files) unless ``force``. Every check runs before the
    first write, so a refused restore changes nothing.
    """
    source = Path(source)
    manifest = verify(source, progress)
    database: dict[str, Any] = manifest["database"]
    dialect = database.get("dialect")
    if (dialect, database.get("file")) not in (("sqlite", SQLITE_FILE), ("postgresql", PG_FILE)):
        raise StoreError(f"backup {source}: the manifest's database entry is not one this evplatform writes")
    backend = make_url(url).get_backend_name()
    if dialect != backend:
        raise StoreError(f"the backup holds a {dialect} database; {redact(url)} is {backend} (restore into the "
                         f"same kind of database)")
    has_ota = manifest.get("ota") is not None
    if has_ota and ota_root is None:
        raise StoreError("the backup holds an OTA folder: say where to restore it (--ota-root)")
    replaced: list[str] = []
    if not _database_empty(url):
        if not force:
            raise StoreError(f"{redact(url)} already holds tables; restore into an empty database or use --force")
        replaced.append(redact(url))
    if has_ota and ota_root is not None and ota_root.exists() and any(ota_root.iterdir()):
        if not force:
            raise StoreError(f"{ota_root}: not empty; restore into an empty folder or use --force")
        replaced.append(str(ota_root))
    if dialect == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(_inside(source, database["file"]), target, progress, "database (pages)")
    else:
        tool = _pg_tool("pg_restore")
        progress("database (pg_restore)", 0, None)
        clean = ["--clean", "--if-exists"] if force else []
        _run_pg([tool, "--no-owner", "--no-privileges", "--single-transaction", *clean,
                 str(_inside(source, database["file"]))], url)
        progress("database (pg_restore)", 1, 1)
    files = {name: entry for name, entry in manifest["files"].items() if name.startswith(OTA_DIR + "/")}
    keys = bool(has_ota and manifest["ota"].get("keys_included"))
    if has_ota and ota_root is not None:
        _restore_ota(source, files, Path(ota_root), keys, progress)
    return RestoreResult(redact(url), str(dialect), database.get("revision"), ota_root if has_ota else None,
                         len(manifest["files"]), sum(int(e["bytes"]) for e in manifest["files"].values()),
                         keys, replaced)


def _database_empty(url: str) -> bool:
    if make_url(url).get_backend_name() == "sqlite" and not _sqlite_path(url).exists():
        return True
    engine = create_store_engine(url)
    try:
        return not inspect(engine).get_table_names()
    except Exception as error:  # any driver failure: say which database
        raise StoreError(f"cannot read the tables of {redact(url)}: {error}") from error
    finally:
        engine.dispose()


def _restore_ota(source: Path, files: dict[str, Any], root: Path, backup_has_keys: bool, progress: Progress) -> None:
    """Write the OTA folder beside ``root``, then swap it in; keys already at ``root`` stay if the backup has none."""
    partial = root.with_name(root.name + ".partial")
    old = root.with_name(root.name + ".replaced")
    for leftover in (partial, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    partial.mkdir(parents=True)
    try:
        total = sum(int(e["bytes"]) for e in files.values())
        done = 0
        for name in files:
            relative = name[len(OTA_DIR) + 1:]
            done += _copy_hashing(_inside(source, name), partial / relative)["bytes"]
            progress("OTA folder (bytes)", done, total)
        if root.exists() and not backup_has_keys and (root / KEYS_DIR).is_dir():
            shutil.copytree(root / KEYS_DIR, partial / KEYS_DIR)  # the server's own keys, kept
        if (partial / KEYS_DIR).is_dir():
            os.chmod(partial / KEYS_DIR, 0o700)
        if root.exists():
            root.rename(old)
        partial.rename(root)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)

