"""`evplatform serve`: the REST API and the dashboard with uvicorn (default http://127.0.0.1:8000).

The port is checked before anything else happens: a port another process listens on ends the
command with one line naming the port and how to choose another, exit code 1 — instead of an
address printed as served followed by uvicorn's traceback-like "address already in use".

``--workers N`` runs N uvicorn worker processes on the one port (uvicorn's own supervisor: it
restarts a worker that dies and passes SIGTERM on, so ``--graceful-timeout`` holds for each
worker). uvicorn rather than gunicorn with uvicorn's worker class: it is already the server, so no
new dependency, and the same options mean the same thing for one process or many. Everything run
once — the port check, the database check and migration, ``--create-admin`` and its token printed
once — happens in the parent before the workers start; the workers build the application from
``ENV_SERVE_CONFIG`` (``api.app.app_from_environment``).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, err_console, print_json
from evplatform.logs import configure_logging
from evplatform.service.rate_limits import (
    ENV_REDIS_URL,
    ENV_TOKEN_RATE,
    ENV_VEHICLE_RATE,
    RateLimit,
    RateLimits,
    RateLimitStoreError,
    RedisCounter,
    redact_redis,
)
from evplatform.store import default_database_url, open_store, redact


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


class LogFormatChoice(StrEnum):
    text = "text"
    json = "json"


#: The ports a user may choose (0, "any free port", would make the printed address wrong).
PORT_MIN, PORT_MAX = 1, 65_535
#: Seconds a stop waits for requests in flight: an update check takes milliseconds, an image download
#: on a slow link longer; an orchestrator's kill after its own grace period (Kubernetes: 30 s) bounds it.
GRACEFUL_DEFAULT_S, GRACEFUL_MAX_S = 10, 3_600
#: Worker processes: one per core is the useful most; the bound keeps a typo from forking thousands.
WORKERS_MAX = 64
DEFAULTS = RateLimits()


def _rate(text: str) -> RateLimit:
    try:
        return RateLimit.parse(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def port_problem(host: str, port: int) -> str | None:
    """Why uvicorn could not listen on ``host:port`` (a bind tried and released at once), or None.

    ``SO_REUSEADDR`` as uvicorn sets it: a port left in TIME_WAIT by a previous run is free, a
    port with a listener is not.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"cannot resolve the address {host!r}: {error.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def serve(
    workspace: WorkspaceArg = None,
    database: Annotated[
        str | None, typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or .evplatform/).")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        "--port", min=PORT_MIN, max=PORT_MAX,
        help="TCP port to listen on; when it is taken, choose another (make run PORT=8001).")] = 8000,
    admin: Annotated[
        str | None, typer.Option("--create-admin", help="Make sure this admin account exists; its token is printed "
                                 "once, when it is issued, and kept in --token-file.")
    ] = None,
    token_file: Annotated[
        Path | None, typer.Option("--token-file", help="Where the admin token is kept (default: .evplatform/).")
    ] = None,
    ota_root: Annotated[
        Path | None,
        typer.Option("--ota-root", help="OTA server folder (default: .evplatform/ota made by `evplatform ota init`)."),
    ] = None,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="Least severe events logged (the server's and uvicorn's).")
    ] = LogLevel.warning,
    log_format: Annotated[
        LogFormatChoice, typer.Option("--log-format", help="Log lines on stderr: readable text, or JSON Lines.")
    ] = LogFormatChoice.text,
    mqtt: Annotated[str | None, typer.Option(
        "--mqtt", help="Also ingest telemetry from this MQTT 5 broker (mqtt://host[:port]).")] = None,
    graceful_timeout: Annotated[int, typer.Option(
        "--graceful-timeout", min=0, max=GRACEFUL_MAX_S,
        help="Seconds a stop (SIGTERM, Ctrl-C) waits for requests in flight to finish before cutting them.")]
        = GRACEFUL_DEFAULT_S,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, max=WORKERS_MAX,
        help="Worker processes answering on the port (one per core; use PostgreSQL beyond one).")] = 1,
    redis: Annotated[str | None, typer.Option(
        "--redis", envvar=ENV_REDIS_URL, metavar="URL",
        help="Count rate limits in Redis (redis://host:6379/0) instead of the database.")] = None,
    vehicle_rate: Annotated[str, typer.Option(
        "--vehicle-rate", envvar=ENV_VEHICLE_RATE, metavar="N/SECONDS",
        help="Signed requests one vehicle may send per window, e.g. 60/60; off for none.")] = str(DEFAULTS.vehicle),
    token_rate: Annotated[str, typer.Option(
        "--token-rate", envvar=ENV_TOKEN_RATE, metavar="N/SECONDS",
        help="Requests one operator token may send per window, e.g. 1200/60; off for none.")] = str(DEFAULTS.token),
    as_json: JsonOpt = False,
) -> None:
    """Serve the API (OpenAPI at /docs) and the dashboard at / until interrupted.

    Listens on http://127.0.0.1:8000 unless --host/--port say otherwise; a port already in use ends
    the command at once with exit code 1 (nothing is served, nothing is written).
    """
    limits = RateLimits(_rate(vehicle_rate), _rate(token_rate))
    refuse_mqtt_with_workers(mqtt, workers)
    problem = port_problem(host, port)
    if problem is not None:
        err_console.print(f"[bold red]error:[/] {problem} (is another server running there?); choose another port "
                          f"with --port N, or PORT=N with make run", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    import uvicorn

    configure_logging(log_level.value, log_format.value)

    from evplatform.api import create_app
    from evplatform.api.bootstrap import ensure_admin
    from evplatform.api.context import default_ota_root

    url = database or default_database_url(workspace, bundled=workspace is None)
    if redis:
        _check_redis(redis)
    store = open_store(url)  # fails here, with one line, when the database is unreachable
    try:
        signin = None
        if admin:
            where = token_file or Path(".evplatform") / f"{admin}.token"
            signin = ensure_admin(store, admin, where)
    finally:
        store.dispose()
    ota_root = ota_root or default_ota_root(workspace)
    address = f"http://{host}:{port}"
    if as_json:
        print_json({"url": address, "database": redact(url), "ota_root": None if ota_root is None else str(ota_root),
                    "workers": workers, "redis": None if redis is None else redact_redis(redis),
                    "rate_limits": {"vehicle": str(limits.vehicle), "token": str(limits.token)},
                    "admin": None if signin is None else {"name": signin.name,
                                                          "token": signin.token if signin.created else None,
                                                          "token_file": str(signin.token_file)}})
    else:
        console.print(f"[bold]evplatform dashboard[/] at [link={address}/]{address}/[/link]  (API docs {address}/docs)")
        console.print(f"database {redact(url)}; Uptane repositories: {ota_root or 'none (evplatform ota init)'}")
        console.print(f"{workers} worker process{'es' if workers > 1 else ''}; rate limits per vehicle "
                      f"{limits.vehicle}, per token {limits.token}, counted in "
                      f"{'Redis ' + redact_redis(redis) if redis else 'the database'}", highlight=False)
        if signin is not None and signin.created:
            # Printed once: a token on every start would end up in every terminal log and scroll-back.
            console.print(f"sign in at {address}/signin as [bold]{signin.name}[/] (admin) with the new token "
                          f"[bold]{signin.token}[/]  (kept in {signin.token_file}; not shown again)", soft_wrap=True)
        elif signin is not None:
            console.print(f"sign in at {address}/signin as [bold]{signin.name}[/] (admin) with the token kept in "
                          f"{signin.token_file}", soft_wrap=True)
        err_console.print("Ctrl-C stops the server.")
    # log_config=None: uvicorn's own loggers propagate to the handler configure_logging installed;
    # access_log=False: the app logs each request itself on evplatform.access (route template, request id).
    # On SIGTERM uvicorn stops accepting, lets requests in flight finish for --graceful-timeout, then stops.
    options: dict[str, Any] = {"host": host, "port": port, "log_level": log_level.value, "log_config": None,
                               "access_log": False, "timeout_graceful_shutdown": graceful_timeout}
    if workers == 1:
        app = create_app(workspace, url, ota_root=ota_root, rate_limits=limits, redis_url=redis)
        uvicorn.run(with_mqtt(app, url, mqtt), **options)
        return
    from evplatform.api.app import ENV_SERVE_CONFIG, serve_config
    from evplatform.api.observability import MULTIPROCESS_ENV

    os.environ[ENV_SERVE_CONFIG] = serve_config(
        workspace=workspace, database_url=url, ota_root=ota_root, limits=limits, redis_url=redis,
        log_level=log_level.value, log_format=log_format.value)
    # the workers' metrics in files one scrape sums (api.observability); a folder of this run's own,
    # unless the operator chose one (it must then be emptied between runs, as prometheus-client says)
    own_folder = None if os.environ.get(MULTIPROCESS_ENV) else tempfile.mkdtemp(prefix="evplatform-metrics-")
    if own_folder is not None:
        os.environ[MULTIPROCESS_ENV] = own_folder
    try:
        run_workers("evplatform.api.app:app_from_environment", workers, **options)
    finally:
        if own_folder is not None:
            shutil.rmtree(own_folder, ignore_errors=True)
            del os.environ[MULTIPROCESS_ENV]


def with_mqtt(app: Any, url: str, mqtt: str | None) -> Any:
    """The app with the MQTT ingester in its process when ``--mqtt`` is given (``cli.ingest``)."""
    if not mqtt:
        return app
    from evplatform.cli.ingest import with_ingester

    return with_ingester(app, url, mqtt)


def refuse_mqtt_with_workers(mqtt: str | None, workers: int) -> None:
    """Exit 1 when ``--mqtt`` comes with several workers: the ingester lives in one process."""
    if mqtt and workers != 1:
        err_console.print("[bold red]error:[/] --mqtt runs the ingester in the server process: use it with "
                          "--workers 1, or run `evplatform ingest --mqtt URL` beside the workers", soft_wrap=True)
        raise typer.Exit(1)


def tcp_listener(host: str, port: int) -> socket.socket:
    """The listening socket the workers share, made with ``IPPROTO_TCP``.

    uvicorn's own (``Config.bind_socket``) is made with protocol 0, which its accepted connections
    inherit; asyncio turns Nagle's algorithm off (``TCP_NODELAY``) only on sockets whose protocol is
    TCP, so every keep-alive request after a connection's first waited ~40 ms for the client's
    delayed ACK (uvicorn issue #3149, open in 0.38; found by the load benchmark of issue 18).
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE)[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(address)
    listener.set_inheritable(True)  # each worker process serves on it
    return listener


def run_workers(app: str, workers: int, **options: Any) -> None:
    """What ``uvicorn.run(app, workers=N)`` does — uvicorn's supervisor over N worker processes — on a
    listening socket of ``tcp_listener``'s."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(app, factory=True, workers=workers, **options)
    with tcp_listener(config.host, config.port) as listener:
        Multiprocess(config, target=uvicorn.Server(config).run, sockets=[listener]).run()


def _check_redis(url: str) -> None:
    """One line and exit code 1 when ``--redis`` names a server that does not answer (as for the database)."""
    try:
        counter = RedisCounter(url)
        try:
            counter.ping()
        finally:
            counter.close()
    except RateLimitStoreError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
