"""Issue 18 §2: `evplatform serve --workers N` and the rate-limit options — what reaches uvicorn and the
workers, and what is still done once by the parent (port check, admin token printed once)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evplatform.api.app import ENV_SERVE_CONFIG, app_from_environment
from evplatform.cli import serve as serve_command
from evplatform.cli.main import app as cli
from evplatform.service.rate_limits import RateLimit, RateLimits


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What serve hands uvicorn: ``uvicorn.run`` for one process, ``run_workers`` for several."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.setattr(serve_command, "run_workers",
                        lambda app, workers, **kw: calls.append({"app": app, "workers": workers, **kw}))
    monkeypatch.setenv(ENV_SERVE_CONFIG, "")  # restored after the test: serve sets it for its workers
    return calls


def _serve(*args: str) -> Any:
    return CliRunner().invoke(cli, ["serve", *args], env={"COLUMNS": "200"})


def test_workers_run_the_app_factory_with_the_commands_settings(
    tmp_path: Path, uvicorn_calls: list[dict[str, Any]]
) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = _serve("--database", database, "--port", "8124", "--workers", "3", "--graceful-timeout", "25",
                    "--vehicle-rate", "10/30", "--token-rate", "off", "--log-format", "json", "--json")
    assert result.exit_code == 0, result.output
    call = uvicorn_calls[-1]
    assert call["app"] == "evplatform.api.app:app_from_environment"
    assert (call["workers"], call["port"], call["timeout_graceful_shutdown"]) == (3, 8124, 25)
    assert json.loads(result.stdout)["workers"] == 3
    app = app_from_environment()  # what each worker builds from the environment serve left
    context = app.state.context
    assert context.database_url == database and context.redis_url is None
    assert context.rate_limiter().limits == RateLimits(RateLimit(10, 30), RateLimit(0, 60))


def test_one_worker_serves_the_app_itself_with_the_limits(tmp_path: Path, uvicorn_calls: list[dict[str, Any]]) -> None:
    result = _serve("--database", f"sqlite:///{tmp_path / 'db.sqlite'}", "--port", "8125", "--vehicle-rate", "7/60")
    assert result.exit_code == 0, result.output
    assert "workers" not in uvicorn_calls[-1]
    assert uvicorn_calls[-1]["app"].state.context.rate_limiter().limits.vehicle == RateLimit(7, 60)
    assert "per vehicle 7/60s, per token 1200/60s, counted in the database" in result.stdout
    assert os.environ[ENV_SERVE_CONFIG] == ""  # one process needs no hand-over


def test_the_admin_token_is_printed_once_however_many_workers(
    tmp_path: Path, uvicorn_calls: list[dict[str, Any]]
) -> None:
    args = ("--database", f"sqlite:///{tmp_path / 'db.sqlite'}", "--port", "8126", "--workers", "2",
            "--create-admin", "root", "--token-file", str(tmp_path / "root.token"), "--json")
    first, second = (json.loads(_serve(*args).stdout)["admin"] for _ in range(2))
    assert first["token"] == (tmp_path / "root.token").read_text().strip()
    assert second["token"] is None and len(uvicorn_calls) == 2
    assert first["token"] not in os.environ[ENV_SERVE_CONFIG]  # the workers never see it


@pytest.mark.parametrize(("args", "message"), [
    (("--workers", "0"), "--workers"), (("--workers", "65"), "--workers"),
    (("--vehicle-rate", "fast"), "REQUESTS/SECONDS"), (("--token-rate", "5/0"), "window"),
])
def test_bad_options_are_usage_errors(args: tuple[str, ...], message: str, tmp_path: Path,
                                      uvicorn_calls: list[dict[str, Any]]) -> None:
    result = _serve("--database", f"sqlite:///{tmp_path / 'db.sqlite'}", *args)
    assert result.exit_code == 2 and message in result.output and not uvicorn_calls


def test_a_busy_port_is_refused_before_any_worker_starts(tmp_path: Path, uvicorn_calls: list[dict[str, Any]]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _serve("--database", f"sqlite:///{tmp_path / 'x.db'}", "--port", str(taken.getsockname()[1]),
                        "--workers", "4")
    assert result.exit_code == 1 and "cannot listen" in result.output and not uvicorn_calls
    assert not (tmp_path / "x.db").exists()


def test_an_unreachable_redis_is_one_line_and_nothing_served(
    tmp_path: Path, uvicorn_calls: list[dict[str, Any]]
) -> None:
    result = _serve("--database", f"sqlite:///{tmp_path / 'x.db'}", "--port", "8127",
                    "--redis", "redis://:hunter2@127.0.0.1:1/0")
    assert result.exit_code == 1 and not uvicorn_calls
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Redis at redis://:***@127.0.0.1:1/0 does not answer" in lines[0], result.output
    assert "hunter2" not in result.output


def test_the_workers_socket_hands_out_tcp_connections_asyncio_makes_nodelay() -> None:
    """asyncio sets TCP_NODELAY only on sockets whose protocol is TCP; uvicorn's own workers' socket
    (protocol 0) made every keep-alive request after the first wait ~40 ms for a delayed ACK."""
    with serve_command.tcp_listener("127.0.0.1", 0) as listener:
        listener.listen()
        with socket.create_connection(listener.getsockname()) as _client:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
