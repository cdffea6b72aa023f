"""`evplatform apps …`: third-party apps of the workspace (check), their publisher-signed delivery, and
vehicle API tokens (``token``: Kuksa-format JWTs for the hub).

``check`` tells per app × trim × market whether the app can run and why not; ``delegate`` gives a
publisher its own delegated role of the Image repository (``apps/<publisher>/*``); ``publish``
signs an app release with the publisher's keys into that role. The domain is ``evplatform.apps``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from evplatform.apps.compat import report
from evplatform.apps.manifest import load_apps
from evplatform.cli.common import JsonOpt, WorkspaceArg, console, print_json, print_result
from evplatform.cli.ota_options import (
    DEFAULT_ROOT,
    InsecureDemoKeysOpt,
    KeysOpt,
    PassphraseEnvOpt,
    RootOpt,
    keyring_of,
)
from evplatform.errors import NotFoundError, VehicleError
from evplatform.vehicle.hub import SIGNALS
from evplatform.vehicle.hub.auth import mint_token
from evplatform.workspace import load_workspace

if TYPE_CHECKING:
    from evplatform.ota.image_repository import ImageRepository
    from evplatform.ota.keys import KeyRing

apps_app = typer.Typer(help="Third-party apps: compatibility with every trim × market, publisher-signed delivery, "
                       "API tokens.", no_args_is_help=True)
WorkspaceOpt = Annotated[Path | None, typer.Option("--workspace", "-w", help="Workspace folder (default: the demo).")]


@apps_app.command("check")
def check(workspace: WorkspaceArg = None, only_incompatible: Annotated[bool, typer.Option(
        "--incompatible", help="List only the configurations where an app cannot run.")] = False,
          as_json: JsonOpt = False) -> None:
    """Per app × trim × market: compatible or not, with every reason."""
    ws = load_workspace(workspace)
    data = report(ws, load_apps(ws))
    if as_json:
        print_json(data)
        return
    if not data["apps"]:
        console.print(f"no apps in {ws.root / 'apps'}")
        return
    summary = Table(title=f"apps of {ws.platform.name}: {len(data['configurations'])} configurations",
                    title_justify="left")
    for column in ("app", "publisher", "version", "runs on", "does not run on"):
        summary.add_column(column)
    for app in data["apps"]:
        summary.add_row(app["id"], app["publisher"], app["version"], str(app["compatible"]),
                        f"[red]{app['incompatible']}[/]" if app["incompatible"] else "0")
    console.print(summary)
    table = Table(title="why not" if only_incompatible else "every configuration", title_justify="left")
    for column in ("app", "trim", "market", "compatible", "reasons"):
        table.add_column(column, overflow="fold")
    for v in data["verdicts"]:
        if only_incompatible and v["compatible"]:
            continue
        table.add_row(v["app"], v["trim"], v["market"], "[green]yes[/]" if v["compatible"] else "[red]no[/]",
                      "; ".join(f"{r['code']}: {r['message']}" for r in v["reasons"]))
    console.print(table)


@apps_app.command("delegate")
def delegate(
    publisher: Annotated[str, typer.Argument(help="Publisher id (as in the app manifests).")],
    hardware_id: Annotated[list[str] | None, typer.Option(
        "--hardware-id", help="Only ECUs of this hardware id may install its apps (repeat; none: any).")] = None,
    keys_count: Annotated[int, typer.Option("--new-keys", help="How many keys the publisher gets.")] = 1,
    threshold: Annotated[int, typer.Option("--threshold", help="Publisher signatures required.")] = 1,
    terminating: Annotated[bool, typer.Option("--terminating/--not-terminating",
                                              help="Stop the search at the publisher's role.")] = True,
    root: RootOpt = DEFAULT_ROOT,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Delegate apps/<publisher>/* to the publisher's own new keys (signed by the Image targets key)."""
    from evplatform.apps.publishing import delegate_publisher  # TUF and the OTA stack: only when publishing

    keyring, image = _image_repository(root, keys, passphrase_env, insecure_demo_keys)
    done = delegate_publisher(image, keyring, publisher, hardware_ids=hardware_id or None, keys=keys_count,
                              threshold=threshold, terminating=terminating)
    print_result(done, as_json, f"{publisher}: role {done['delegation']['name']} for "
                           f"{', '.join(done['delegation']['paths'])}, targets v{done['targets_version']}")


@apps_app.command("rotate-key")
def rotate_key(
    publisher: Annotated[str, typer.Argument(help="Publisher id whose keys leaked or expire.")],
    keys_count: Annotated[int, typer.Option("--new-keys", help="How many new keys the publisher gets.")] = 1,
    threshold: Annotated[int, typer.Option("--threshold", help="Publisher signatures required.")] = 1,
    root: RootOpt = DEFAULT_ROOT,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """New keys for a publisher's role (old ones retired; its releases must be published again)."""
    from evplatform.apps.publishing import rotate_publisher

    keyring, image = _image_repository(root, keys, passphrase_env, insecure_demo_keys)
    done = rotate_publisher(image, keyring, publisher, keys=keys_count, threshold=threshold)
    print_result(done, as_json, f"{publisher}: role {done['delegation']['name']} has new keys, "
                           f"targets v{done['targets_version']}")


@apps_app.command("publish")
def publish(
    app_id: Annotated[str, typer.Argument(help="App id (apps/<id>.yaml of the workspace).")],
    image: Annotated[Path, typer.Argument(help="The app release file.", exists=True, dir_okay=False)],
    hardware_id: Annotated[str, typer.Option("--hardware-id", help="Hardware id of the ECU that runs the app.")],
    release_counter: Annotated[int, typer.Option("--release-counter", help="Anti-rollback counter.")],
    expires_days: Annotated[int | None, typer.Option(
        "--expires-days", min=1, max=3650,
        help="Days the signed release list stays valid (default: the repository's targets lifetime).")] = None,
    workspace: WorkspaceOpt = None,
    root: RootOpt = DEFAULT_ROOT,
    keys: KeysOpt = None,
    passphrase_env: PassphraseEnvOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Sign an app release with its publisher's keys into the publisher's delegated role."""
    from evplatform.apps.publishing import publish_app
    from evplatform.ota.storage import DirectoryImageStore

    ws = load_workspace(workspace)
    catalogue = load_apps(ws)
    if app_id not in catalogue.apps:
        raise NotFoundError("app", f"{app_id!r} (apps: {', '.join(sorted(catalogue.apps)) or 'none'})")
    keyring, repository = _image_repository(root, keys, passphrase_env, insecure_demo_keys)
    done = publish_app(repository, DirectoryImageStore(root / "images"), keyring, catalogue.apps[app_id],
                       image.read_bytes(), hardware_id=hardware_id, release_counter=release_counter,
                       lifetime=timedelta(days=expires_days) if expires_days is not None else None)
    print_result(done, as_json, f"{done['target']['path']} signed by {done['role']} v{done['role_version']}")




DEFAULT_TOKEN_KEY = Path(".evplatform") / "hub" / "apps-token.key"


@apps_app.command("token")
def token(
    app_id: Annotated[str, typer.Option("--app", help="The app's id (the token's subject).")],
    scope: Annotated[list[str], typer.Option(
        "--scope", help="A Kuksa scope, e.g. read:Vehicle.Speed or actuate:Vehicle.Cabin.HVAC (repeatable).")],
    key: Annotated[Path, typer.Option(
        "--key", help="The signing key from `evplatform hub keygen`.")] = DEFAULT_TOKEN_KEY,
    lifetime: Annotated[int, typer.Option("--lifetime", min=1, help="Validity in seconds.")] = 24 * 3600,
    as_json: JsonOpt = False,
) -> None:
    """Mint a Kuksa-format (RS256 JWT) token for an app; every scope must name signals the hub carries."""
    if not key.is_file():
        raise VehicleError(f"{key}: no signing key; create one with `evplatform hub keygen`")
    minted = mint_token(key.read_bytes(), app_id, scope, SIGNALS, lifetime_s=lifetime)
    if as_json:
        print_json({"app": app_id, "scope": " ".join(scope), "lifetime_s": lifetime, "token": minted})
        return
    console.print(minted, soft_wrap=True)


def _image_repository(root: Path, keys: Path | None, passphrase_env: str | None,
                      insecure_demo_keys: bool) -> tuple[KeyRing, ImageRepository]:
    """The offline keys and the Image repository they sign (TUF and the OTA stack load only here)."""
    from evplatform.ota.image_repository import ImageRepository
    from evplatform.ota.metadata_common import system_clock

    keyring = keyring_of(root, keys, passphrase_env, insecure_demo_keys)
    return keyring, ImageRepository.open_with_keyring(root / "image", system_clock, keyring)


def register(app: typer.Typer) -> None:
    app.add_typer(apps_app, name="apps")
