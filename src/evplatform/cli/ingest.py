"""`evplatform ingest --mqtt URL`: the long-running MQTT telemetry ingester (``fleet.mqtt_ingest``).

Runs until SIGINT/SIGTERM, then prints what it stored, ignored as duplicates and refused (by
reason). ``serve --mqtt URL`` runs the same ingester inside the server process instead.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, print_json
from evplatform.logs import configure_logging
from evplatform.store import default_database_url, open_store, redact

MqttOpt = Annotated[str, typer.Option("--mqtt", help="MQTT 5 broker, mqtt://host[:port] (Mosquitto: 1883).")]


def ingest(
    mqtt: MqttOpt,
    workspace: WorkspaceArg = None,
    database: Annotated[
        str | None, typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or .evplatform/).")
    ] = None,
    client_id: Annotated[str, typer.Option("--client-id", help="MQTT client id of the persistent session.")
                         ] = "evplatform-ingester",
    queue: Annotated[int, typer.Option("--queue", min=1, max=65_535,
                                       help="Messages in flight at most (the broker's window: backpressure).")] = 2_000,
    parquet: Annotated[Path | None, typer.Option("--parquet", help="Also append telemetry to Parquet partitions "
                                                                 "(category/day/model) under this folder.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest vehicles' signed telemetry batches from the broker into the store, each batch once."""
    from evplatform.fleet.mqtt_ingest import Ingester

    configure_logging("info", "text")
    url = database or default_database_url(workspace, bundled=workspace is None)
    store = open_store(url)

    async def main() -> dict[str, Any]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        ingester = Ingester(store, mqtt, client_id=client_id, queue_size=queue, parquet=parquet)
        if not as_json:
            console.print(f"ingesting from {mqtt} into {redact(url)} (Ctrl-C stops)")
        return (await ingester.run(stop)).as_dict()

    try:
        stats = asyncio.run(main())
    finally:
        store.dispose()
    if as_json:
        print_json(stats)
    else:
        console.print(f"stored {stats['batches_stored']} batches ({stats['events_stored']} events), "
                      f"{stats['duplicates']} duplicates ignored, refused {stats['refused'] or 'none'}")


def with_ingester(app: Any, database_url: str, mqtt: str, **options: Any) -> Any:
    """``app`` with the MQTT ingester running beside it for its lifetime (``serve --mqtt``).

    ``options`` go to ``Ingester`` (tests give a client id and a short session expiry).
    """
    from evplatform.fleet.mqtt_ingest import Ingester

    inner = app.router.lifespan_context
    app.state.mqtt_url = mqtt  # the command routes publish there

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        store = open_store(database_url)
        stop = asyncio.Event()
        registry = getattr(getattr(app_.state, "metrics", None), "registry", None)
        task = asyncio.create_task(Ingester(store, mqtt, registry=registry, **options).run(stop))
        try:
            async with inner(app_) as state:
                yield state
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
            store.dispose()

    app.router.lifespan_context = lifespan
    return app


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
