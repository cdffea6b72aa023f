"""`evplatform fleet command VIN ACTION` and `fleet commands [VIN]`: commands to vehicles over MQTT.

Only parses, calls ``fleet.mqtt_commands`` and renders; the expiry is decided on the server's clock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli.actor import DEFAULT_ACTOR, ActorOpt
from evplatform.cli.common import JsonOpt, WorkspaceArg, console, print_json
from evplatform.fleet.mqtt_commands import ACTIONS, issue_command, publish_command
from evplatform.store import default_database_url, open_store
from evplatform.store.telemetry_batches import CommandRecord
from evplatform.store.telemetry_batches import commands as list_commands

DatabaseOpt = Annotated[str | None, typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL "
                                                                    "or the workspace's .evplatform/).")]


def payload(record: CommandRecord) -> dict[str, Any]:
    return {"id": record.id, "vin": record.vin, "action": record.action, "state": record.state,
            "issued_by": record.issued_by, "issued_at": record.issued_at.isoformat(),
            "expires_at": record.expires_at.isoformat(),
            "answered_at": record.answered_at.isoformat() if record.answered_at else None, "detail": record.detail}


def command(
    vin: Annotated[str, typer.Argument(help="The vehicle's VIN.")],
    action: Annotated[str, typer.Argument(help=f"One of: {', '.join(ACTIONS)}.")],
    mqtt: Annotated[str | None, typer.Option("--mqtt", help="Publish to this MQTT 5 broker (mqtt://host[:port]); "
                                                            "without it the command is only recorded.")] = None,
    ttl: Annotated[int, typer.Option("--ttl", min=1, max=86_400, help="Seconds until the command expires.")] = 300,
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    actor: ActorOpt = DEFAULT_ACTOR,
    as_json: JsonOpt = False,
) -> None:
    """Send a command (pre-condition the cabin, lock, request a log upload) to one vehicle."""
    store = open_store(database or default_database_url(workspace, bundled=workspace is None))
    try:
        record = issue_command(store, vin, action, actor, timedelta(seconds=ttl))
        if mqtt:
            asyncio.run(publish_command(mqtt, record))
    finally:
        store.dispose()
    out = {**payload(record), "published": bool(mqtt)}
    if as_json:
        print_json(out)
    else:
        expires = f"{record.expires_at:%Y-%m-%d %H:%M:%S}"
        console.print(f"command {record.id}: {action} for {vin}, {record.state}, expires {expires} UTC"
                      + ("" if mqtt else " (recorded only: no --mqtt)"))


def commands(
    vin: Annotated[str | None, typer.Argument(help="Only this vehicle's commands.")] = None,
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Commands sent to vehicles, newest first, with their answers (expired on the server's clock)."""
    store = open_store(database or default_database_url(workspace, bundled=workspace is None))
    try:
        records = list_commands(store, vin=vin)
    finally:
        store.dispose()
    if as_json:
        print_json([payload(r) for r in records])
        return
    table = Table("id", "VIN", "action", "state", "issued (UTC)", "expires (UTC)", "by", "detail")
    for r in records:
        table.add_row(r.id, r.vin, r.action, r.state, f"{r.issued_at:%Y-%m-%d %H:%M:%S}",
                      f"{r.expires_at:%Y-%m-%d %H:%M:%S}", r.issued_by, r.detail)
    console.print(table)


def stream(
    mqtt: Annotated[str, typer.Option("--mqtt", help="MQTT 5 broker, mqtt://host[:port].")],
    vehicles: Annotated[int, typer.Option("--vehicles", min=1, max=100_000, help="Simulated vehicles.")] = 100,
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=1_000, help="Batches per vehicle.")] = 3,
    insecure_demo_keys: Annotated[bool, typer.Option(
        "--insecure-demo-keys", help="Sign with keys derived from the VIN (demo database only).")] = False,
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stream the simulated fleet's telemetry over MQTT (batches of 10 readings, signed per vehicle)."""
    from evplatform.errors import FleetError
    from evplatform.fleet.mqtt_fleet import stream_fleet

    if not insecure_demo_keys:
        raise FleetError("simulated vehicles sign with derivable demo keys: pass --insecure-demo-keys")
    store = open_store(database or default_database_url(workspace, bundled=workspace is None))
    try:
        result = asyncio.run(stream_fleet(store, mqtt, vehicles, rounds))
    finally:
        store.dispose()
    if as_json:
        print_json({"vehicles": result.vehicles, "skipped": result.skipped, "batches": result.batches,
                    "events": result.events})
    else:
        console.print(f"streamed {result.batches:,} batches ({result.events:,} readings) from {result.vehicles:,} "
                      f"simulated vehicles" + (f"; {result.skipped} with their own keys left out" if result.skipped
                                              else ""))


def add_commands(fleet_app: typer.Typer) -> None:
    fleet_app.command("command")(command)
    fleet_app.command("commands")(commands)
    fleet_app.command("stream")(stream)
