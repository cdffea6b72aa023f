"""`evplatform ota vehicles register` and `ota vehicles check`: the demo fleet and the Uptane Director.

``register`` registers every vehicle of the database with the Director of the OTA folder, with ECU
keys derived from the demo secret (``fleet.demo_uptane``); ``check`` plays one of those vehicles:
a full-verification update check against a running server over HTTP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import typer

from evplatform.cli.common import JsonOpt, console, print_json
from evplatform.cli.ota_options import DEFAULT_ROOT, InsecureDemoKeysOpt, KeysOpt, RootOpt, keys_dir_of
from evplatform.errors import OtaError
from evplatform.fleet import demo_uptane
from evplatform.ota.metadata_common import system_clock
from evplatform.ota.service import OtaService
from evplatform.store import default_database_url, open_store

vehicles_app = typer.Typer(help="The fleet's vehicles at the Uptane Director (demo ECU keys).", no_args_is_help=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or ./.evplatform/)."),
]
ServerOpt = Annotated[str, typer.Option("--server", help="The server's Uptane base URL.")]
StateOpt = Annotated[
    Path | None, typer.Option("--state", help="The vehicle's own folder (default: <root>/demo-vehicles/<VIN>).")
]


@vehicles_app.command("register")
def register_command(
    root: RootOpt = DEFAULT_ROOT,
    keys: KeysOpt = None,
    database: DatabaseOpt = None,
    insecure_demo_keys: InsecureDemoKeysOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Register every vehicle of the database with the Director (ECU keys derived from the demo secret).

    Vehicles already registered are kept as they are. Needs --insecure-demo-keys the first time: the
    secret every demo ECU key derives from is made in the key folder.
    """
    keys_dir = keys_dir_of(root, keys)
    if not (keys_dir / demo_uptane.SECRET_FILE).exists():
        if not insecure_demo_keys:
            raise OtaError(f"{keys_dir}: no demo vehicle secret; pass --insecure-demo-keys to create one "
                           "(a throw-away demo: anyone holding it can sign as any demo ECU)")
        demo_uptane.create_secret(keys_dir)
    secret = demo_uptane.load_secret(keys_dir)
    service = OtaService(root, system_clock)
    with open_store(database or default_database_url()) as store:
        done = demo_uptane.register_fleet(store, service, secret)
    if as_json:
        print_json(done.to_dict())
        return
    console.print(f"{done.registered:,} vehicles ({done.ecus:,} ECUs) registered with the Director in "
                  f"{done.seconds:,.1f} s; {done.already:,} already were")


@vehicles_app.command("check")
def check_command(
    vin: Annotated[str, typer.Argument(help="VIN of a registered demo vehicle.")],
    server: ServerOpt = "http://127.0.0.1:8000/uptane/",
    root: RootOpt = DEFAULT_ROOT,
    keys: KeysOpt = None,
    database: DatabaseOpt = None,
    state: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One full-verification update check of a demo vehicle against a running server.

    The first check provisions the vehicle with both repositories' first root from the OTA folder
    (the factory's copy); later checks start from what the vehicle verified before.
    """
    keys_dir = keys_dir_of(root, keys)
    secret = demo_uptane.load_secret(keys_dir)
    folder = state or root / "demo-vehicles" / vin
    roots = None
    if not (folder / "uptane").exists():
        roots = {"image": (root / "image" / "metadata" / "1.root.json").read_bytes(),
                 "director": (root / "director" / "metadata" / "1.root.json").read_bytes()}
    folder.mkdir(parents=True, exist_ok=True)
    with open_store(database or default_database_url()) as store:
        client = demo_uptane.demo_vehicle_client(store, vin, secret, server, folder, system_clock, roots)
    outcome = client.update_check()
    answer = httpx.post(server.rstrip("/") + f"/director/{vin}/manifest", content=client.version_manifest(),
                        timeout=30.0)
    if answer.status_code != 200:
        raise OtaError(f"the Director refused {vin}'s version manifest: HTTP {answer.status_code} {answer.text[:200]}")
    result = {"vin": vin, "status": outcome.status, "manifest_accepted": True,
              "updates": [{"ecu": u.ecu_serial, "sha256": u.image.sha256, "slot": u.slot, "via_delta": u.via_delta}
                          for u in outcome.updates],
              "manifest_bytes": len(outcome.manifest)}
    if as_json:
        print_json(result)
        return
    console.print(f"{vin}: {outcome.status} ({len(outcome.updates)} update(s)); metadata of both repositories "
                  "verified, version manifest accepted by the Director")
