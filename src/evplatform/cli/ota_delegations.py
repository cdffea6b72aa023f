"""`evplatform ota delegation create|publish|sign|revoke|list`: delegated targets roles of the Image repository.

Parses options, calls ``evplatform.ota.delegation_admin`` and renders; the offline keys (Image
targets, the delegated roles') are decrypted with the passphrase named by ``--passphrase-env``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, console, print_json, print_result
from evplatform.cli.ota_options import (
    DEFAULT_ROOT,
    InsecureDemoKeysOpt,
    KeysOpt,
    PassphraseEnvOpt,
    RootOpt,
    keyring_of,
)
from evplatform.ota import delegation_admin
from evplatform.ota.image_repository import ImageRepository
from evplatform.ota.metadata_common import system_clock

delegation_app = typer.Typer(help="Delegated targets roles of the Image repository (suppliers, app publishers).",
                             no_args_is_help=True)
NameArg = Annotated[str, typer.Argument(help="Delegated role name (lowercase letters, digits, '-').")]


@delegation_app.command("create")
def create(
    name: NameArg,
    path: Annotated[list[str], typer.Option("--path", help="Image path pattern the role may sign (repeat).")],
    hardware_id: Annotated[list[str] | None, typer.Option("--hardware-id", help="Restrict to this hardware id "
                                                          "(repeat; none: any hardware).")] = None,
    terminating: Annotated[bool, typer.Option("--terminating", help="Stop the search at this role.")] = False,
    keys_count: Annotated[int, typer.Option("--new-keys", help="How many new keys the role gets.")] = 1,
    threshold: Annotated[int, typer.Option("--threshold", help="Signatures of the role required.")] = 1,
    position: Annotated[int | None, typer.Option("--position", help="Priority (0 = first); default last.")] = None,
    member: Annotated[list[str] | None, typer.Option("--member", help="Multi-role: a role that must agree "
                                                     "(repeat; no keys are made).")] = None,
    agree: Annotated[int, typer.Option("--agree", help="Multi-role: how many members must agree.")] = 0,
    allow_overlap: Annotated[bool, typer.Option("--allow-overlap", help="Accept paths that overlap another "
                                                "delegation's on the same hardware (priority order decides).")] = False,
    root: RootOpt = DEFAULT_ROOT,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Delegate image paths (and hardware ids) to a new role, signed by the Image targets key."""
    keyring = keyring_of(root, keys, passphrase_env, insecure_demo_keys)
    done = delegation_admin.create_delegation(
        root, system_clock, keyring, name, paths=path, hardware_ids=hardware_id or None,
        terminating=terminating, keys=keys_count, threshold=threshold, position=position, members=member or [],
        agree=agree, allow_overlap=allow_overlap)
    print_result(done, as_json, f"delegated to {name}: targets v{done['targets_version']}")


@delegation_app.command("publish")
def publish(
    name: NameArg,
    image: Annotated[Path, typer.Argument(help="Image file.", exists=True, dir_okay=False)],
    path: Annotated[str, typer.Option("--path", help="Target path of the image in the repository.")],
    hardware_id: Annotated[str, typer.Option("--hardware-id", help="Hardware id the image is built for.")],
    release_counter: Annotated[int, typer.Option("--release-counter", help="Anti-rollback counter.")],
    component: Annotated[str, typer.Option("--component", help="Software component.")] = "app",
    version: Annotated[str, typer.Option("--version", help="Version string.")] = "0",
    root: RootOpt = DEFAULT_ROOT,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """List an image in a delegated role, signed by that role's keys."""
    done = delegation_admin.publish_to_delegation(
        root, system_clock, keyring_of(root, keys, passphrase_env, insecure_demo_keys), name, path, image.read_bytes(),
        hardware_id=hardware_id, release_counter=release_counter, component=component, version=version)
    print_result(done, as_json, f"{path} published in {name} v{done['role_version']}")


@delegation_app.command("sign")
def sign(name: NameArg, root: RootOpt = DEFAULT_ROOT, keys: KeysOpt = None,
         passphrase_env: PassphraseEnvOpt = None, insecure_demo_keys: InsecureDemoKeysOpt = False,
         as_json: JsonOpt = False) -> None:
    """Re-sign a delegated role with a fresh expiry (its own keys), before it expires."""
    keyring = keyring_of(root, keys, passphrase_env, insecure_demo_keys)
    done = delegation_admin.resign_delegation(root, system_clock, keyring, name)
    print_result(done, as_json, f"signed {name}: v{done['role_version']}")


@delegation_app.command("revoke")
def revoke(name: NameArg, root: RootOpt = DEFAULT_ROOT, keys: KeysOpt = None,
           passphrase_env: PassphraseEnvOpt = None, insecure_demo_keys: InsecureDemoKeysOpt = False,
           as_json: JsonOpt = False) -> None:
    """Remove a delegation: vehicles stop trusting the role at their next check."""
    keyring = keyring_of(root, keys, passphrase_env, insecure_demo_keys)
    done = delegation_admin.revoke_delegation(root, system_clock, keyring, name)
    print_result(done, as_json, f"revoked {name}: targets v{done['targets_version']}")


@delegation_app.command("list")
def list_command(root: RootOpt = DEFAULT_ROOT, as_json: JsonOpt = False) -> None:
    """The delegations in priority order."""
    found = delegation_admin.list_delegations(ImageRepository(root / "image", system_clock))
    if as_json:
        print_json({"delegations": found})
        return
    table = Table(title=f"delegations in {root / 'image'}", title_justify="left")
    for column in ("#", "role", "paths", "hardware ids", "terminating", "members"):
        table.add_column(column)
    for d in found:
        table.add_row(str(d["position"]), d["name"], ", ".join(d["paths"]), ", ".join(d["hardware_ids"] or ["any"]),
                      "yes" if d["terminating"] else "no", ", ".join(d["members"]))
    console.print(table)

