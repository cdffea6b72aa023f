"""`evplatform ota …`: keys, repositories, signing and verification of the secure OTA server.

The OTA folder (``--root``, default ``.evplatform/ota``) holds the Image repository, the
Director and the image store (see ``evplatform.ota.service``); keys live in a separate key
directory (``--keys``, default ``<root>/keys``). The options and the passphrase handling shared
with ``release`` (cli/ota_release.py) are in cli/ota_options.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli import ota_release
from evplatform.cli.common import JsonOpt, console, print_json
from evplatform.cli.ota_delegations import delegation_app
from evplatform.cli.ota_options import (
    DEFAULT_ROOT,
    InsecureDemoKeysOpt,
    KeysOpt,
    PassphraseEnvOpt,
    RootOpt,
    keyring_of,
    keys_dir_of,
    passphrase_from_env,
)
from evplatform.cli.ota_vehicles import vehicles_app
from evplatform.errors import OtaError
from evplatform.ota.director import Director
from evplatform.ota.image_repository import ImageRepository
from evplatform.ota.keys import KeyRing, signer_of
from evplatform.ota.metadata_common import system_clock
from evplatform.ota.resigning import resign
from evplatform.ota.service import OtaService

ota_app = typer.Typer(help="Secure OTA delivery (Uptane on TUF): keys, releases, signing, verification.",
                      no_args_is_help=True)
keys_app = typer.Typer(help="Signing keys of the Image repository and the Director.", no_args_is_help=True)
ota_app.add_typer(keys_app, name="keys")
ota_app.add_typer(delegation_app, name="delegation")
ota_app.add_typer(vehicles_app, name="vehicles")

@keys_app.command("init")
def keys_init(
    directory: Annotated[Path, typer.Argument(help="New key directory (separate media, not the server's folder).")],
    passphrase_env: PassphraseEnvOpt = None,
    root_keys: Annotated[int, typer.Option("--root-keys", help="Image repository root keys.")] = 3,
    root_threshold: Annotated[int, typer.Option("--root-threshold", help="Root signatures required.")] = 2,
    root: RootOpt = DEFAULT_ROOT,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate ed25519 keys for both repositories (files 0600; offline keys encrypted with the passphrase).

    Refused without a passphrase or inside the server's OTA folder (``--root``, $EVPLATFORM_OTA_ROOT)
    unless --insecure-demo-keys.
    """
    from evplatform.service.context import ENV_OTA_ROOT  # the server's folder, also when set by environment

    server = [root, *([Path(os.environ[ENV_OTA_ROOT])] if os.environ.get(ENV_OTA_ROOT) else [])]
    ring = KeyRing.init(directory, passphrase_from_env(passphrase_env), root_keys=root_keys,
                        root_threshold=root_threshold, insecure_demo_keys=insecure_demo_keys, server_folders=server)
    _render_keys(ring, as_json)


@keys_app.command("list")
def keys_list(directory: Annotated[Path, typer.Argument(help="Key directory.")], as_json: JsonOpt = False) -> None:
    """Public part of every key: repository, role, online or offline, encrypted, key id."""
    _render_keys(KeyRing(directory), as_json)


def _render_keys(ring: KeyRing, as_json: bool) -> None:
    if as_json:
        print_json({"directory": str(ring.directory), "keys": [e.to_json() for e in ring.entries],
                    "thresholds": [{"repository": r, "role": role, "threshold": t}
                                   for (r, role), t in sorted(ring.thresholds.items())]})
        return
    table = Table(title=f"keys in {ring.directory}", title_justify="left")
    for column in ("name", "repository", "role", "kind", "encrypted", "key id"):
        table.add_column(column)
    for e in ring.entries:
        table.add_row(e.name, e.repository, e.role, "online" if e.online else "offline",
                      "yes" if e.encrypted else "no", e.public_key.keyid[:16] + "…")
    console.print(table)


@ota_app.command("init")
def init(root: RootOpt = DEFAULT_ROOT, keys: KeysOpt = None, passphrase_env: PassphraseEnvOpt = None,
         insecure_demo_keys: InsecureDemoKeysOpt = False, as_json: JsonOpt = False) -> None:
    """Create the Image repository and the Director (root v1 signed with the offline keys).

    The server's folder receives a copy of the online keys only (``<root>/keys``).
    """
    service = OtaService.initialise(root, system_clock, keyring_of(root, keys, passphrase_env, insecure_demo_keys))
    _render_report(service.verify().to_json(), as_json, f"OTA repositories created in {root}")


@ota_app.command("sign")
def sign(
    role: Annotated[str, typer.Argument(help="timestamp | snapshot | targets | director")],
    root: RootOpt = DEFAULT_ROOT,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Re-sign a role with a fresh expiry: the routine job that keeps metadata from expiring.

    timestamp / snapshot: Image repository, online keys. targets: Image repository, offline key
    (passphrase). director: every vehicle's Director targets, snapshot and timestamp.
    """
    done = resign(role, root, system_clock, keyring_of(root, keys, passphrase_env, insecure_demo_keys))
    if as_json:
        print_json({"root": str(root), "role": role, "versions": done})
    else:
        console.print(f"signed {role} in {root}: " + ", ".join(f"{k} {v}" for k, v in done.items()))


@ota_app.command("rotate-root")
def rotate_root(
    repository: Annotated[str, typer.Argument(help="image | director")],
    root: RootOpt = DEFAULT_ROOT,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    count: Annotated[int, typer.Option("--new-keys", help="How many new root keys.")] = 3,
    threshold: Annotated[int, typer.Option("--threshold", help="Root signatures required from now on.")] = 2,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Replace a repository's root keys: N+1.root.json signed by the old and the new threshold."""
    if repository not in ("image", "director"):
        raise OtaError(f"unknown repository {repository!r}: image or director")
    ring = keyring_of(root, keys, passphrase_env, insecure_demo_keys)
    image = ImageRepository.open_with_keyring(root / "image", system_clock, ring)
    target: ImageRepository | Director = (
        image if repository == "image" else Director.open_with_keyring(root / "director", system_clock, image, ring))
    old = ring.signers(repository, "root")
    created = ring.new_root_keys(repository, count)
    try:
        new = [signer_of(key) for _, key in created]
        version = target.rotate_root(old, new, keys={"root": [s.public_key for s in new]},
                                     thresholds={"root": threshold})
    except BaseException:
        ring.discard_keys([name for name, _ in created])
        raise
    ring.adopt_root_keys(repository, created, threshold)
    if as_json:
        print_json({"repository": repository, "root_version": version, "new_keys": [n for n, _ in created],
                    "threshold": threshold})
    else:
        console.print(f"{repository} root v{version}: {count} new keys ({threshold} required), old keys retired")


@ota_app.command("verify")
def verify(root: RootOpt = DEFAULT_ROOT, keys: KeysOpt = None, as_json: JsonOpt = False) -> None:
    """Check both repositories as a client would: root chain, signatures, versions, hashes, expiry, image match."""
    service = OtaService(root, system_clock, keys_dir=keys_dir_of(root, keys))
    report = service.verify()
    _render_report(report.to_json(), as_json, f"OTA repositories in {root}")
    if not report.ok:
        raise typer.Exit(1)


def _render_report(report: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        print_json(report)
        return
    table = Table(title=title, title_justify="left")
    for column in ("check", "result", "detail"):
        table.add_column(column)
    for check in report["checks"]:
        table.add_row(check["name"], "[green]ok[/]" if check["ok"] else "[red]FAIL[/]", check["detail"])
    console.print(table)
    console.print("[green]all checks passed[/]" if report["ok"] else "[red]problems found[/]")


def register(app: typer.Typer) -> None:
    """Add the ``ota`` group; ``release``, ``records`` and ``delta`` come from cli/ota_release.py."""
    if "records" not in {c.name for c in ota_app.registered_commands}:
        ota_release.add_commands(ota_app)
    app.add_typer(ota_app, name="ota")
