"""`evplatform fleet vehicle VIN`: one vehicle in detail — ECUs, RXSWIN, update history, telemetry — and its
UN R156 / GB 44496 update records (``--records csv|json --output FILE``, the export ``ota records --vin`` writes).

Added to the ``fleet`` group by ``cli/fleet.py``; the payload is ``service.details.vehicle_payload``,
the one ``GET /api/fleet/vehicles/{vin}`` returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, print_json
from evplatform.errors import FleetError
from evplatform.fleet.update_records import update_records
from evplatform.ota.records import to_csv, to_json
from evplatform.service.details import history_csv, vehicle_payload
from evplatform.store import default_database_url, open_store
from evplatform.workspace.loader import demo_path

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or the workspace's .evplatform/)."),
]


def add_commands(fleet_app: typer.Typer) -> None:
    fleet_app.command("vehicle")(vehicle_command)


def _write(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half an export."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8", newline="")
    temporary.replace(path)


def vehicle_command(
    vin: Annotated[str, typer.Argument(help="The vehicle's VIN.")],
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    records: Annotated[str | None, typer.Option("--records", help="Write the vehicle's update records: csv or json "
                                                "(with --output).")] = None,
    history: Annotated[bool, typer.Option("--history-csv", help="Write the update history as CSV (with --output) "
                                          "instead.")] = False,
    output: Annotated[Path | None, typer.Option("--output", help="File for --records or --history-csv.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One vehicle: configuration, ECUs with hardware and version, RXSWIN, update history, last seen, telemetry."""
    if records is not None and records not in ("csv", "json"):
        raise FleetError(f"unknown records format {records!r}: csv or json")
    if (records is not None or history) and output is None:
        raise FleetError("--records and --history-csv need --output FILE")
    root = workspace or demo_path()
    with open_store(database or default_database_url(root, bundled=workspace is None)) as store:
        data = vehicle_payload(store, vin)
        written = None
        if output is not None and records is not None:
            found = update_records(store, vin=vin)
            _write(output, to_csv(found) if records == "csv" else to_json(found, generated_at=store.now()))
            written = str(output)
        elif output is not None and history:
            _write(output, history_csv(data))
            written = str(output)
    if as_json:
        print_json(data | {"written": written})
        return
    _render(data)
    if written:
        console.print(f"written {written}")


def _render(v: dict[str, object]) -> None:
    console.print(f"[bold]{v['vin']}[/]: {v['model']}/{v['trim']} in {v['market']}, registered {v['registered_at']}, "
                  f"last seen {v['last_seen'] or '—'}", highlight=False)
    ecus = Table(title="ECUs", title_justify="left")
    for column in ("ECU", "hardware id", "software", "version"):
        ecus.add_column(column)
    software: dict[str, dict[str, str]] = v["software"]  # type: ignore[assignment]
    for ecu, hw in v["hardware_ids"].items():  # type: ignore[attr-defined]
        sw = software.get(ecu, {})
        ecus.add_row(ecu, hw, sw.get("component", "—"), sw.get("version", "—"))
    console.print(ecus)
    rxswin: dict[str, str] = v["rxswin"]  # type: ignore[assignment]
    console.print("RXSWIN: " + (", ".join(f"{k} {value}" for k, value in rxswin.items()) or "none stored"),
                  highlight=False)
    table = Table(title="Update history", title_justify="left")
    for column in ("at", "action", "campaign", "release", "wave", "outcome / state", "evidence"):
        table.add_column(column)
    for e in v["history"]:  # type: ignore[attr-defined]
        table.add_row(e["at"] or "—", e["action"], f"#{e['campaign_id']} {e['campaign']}", e["release_id"],
                      str(e["wave"]), e["outcome"] or (f"now {e['state']}" if e["action"] == "targeted" else ""),
                      ("yes" if e["evidence"] else "not captured") if e["action"] == "reported" else "")
    console.print(table)
    for s in v["telemetry_series"]:  # type: ignore[attr-defined]
        value = "—" if s["latest"] is None else f"{s['latest']:,.1f} {s['unit'] or ''}".strip()
        console.print(f"{s['name']}: {value} at {s['latest_at']} ({len(s['series'])} readings)", highlight=False)
