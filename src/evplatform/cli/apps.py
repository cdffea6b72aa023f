"""`evplatform apps …`: third-party apps on the vehicle API (tokens for the hub's Kuksa API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evplatform.cli.common import JsonOpt, console, print_json
from evplatform.errors import VehicleError
from evplatform.vehicle.hub import SIGNALS
from evplatform.vehicle.hub.auth import mint_token

DEFAULT_KEY = Path(".evplatform") / "hub" / "apps-token.key"
apps_app = typer.Typer(help="Third-party apps: vehicle API tokens.", no_args_is_help=True)


@apps_app.command("token")
def token(
    app_id: Annotated[str, typer.Option("--app", help="The app's id (the token's subject).")],
    scope: Annotated[list[str], typer.Option(
        "--scope", help="A Kuksa scope, e.g. read:Vehicle.Speed or actuate:Vehicle.Cabin.HVAC (repeatable).")],
    key: Annotated[Path, typer.Option("--key", help="The signing key from `evplatform hub keygen`.")] = DEFAULT_KEY,
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


def register(app: typer.Typer) -> None:
    app.add_typer(apps_app, name="apps")
