"""Issue 16 §6: `evplatform serve --port` — a busy port is one clear error before anything is served;
`make run PORT=…` passes the port on."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evplatform.cli.main import app as cli

ROOT = Path(__file__).resolve().parents[2]


def test_a_busy_port_is_one_error_naming_it_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "evplatform", "serve", "--port", str(port),
             "--database", f"sqlite:///{tmp_path / 'x.db'}", "--create-admin", "ada",
             "--token-file", str(tmp_path / "ada.token")],
            capture_output=True, text=True, timeout=120, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"},
        )
    assert result.returncode == 1, result
    assert result.stdout == ""  # nothing printed as served, no token
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "--port" in lines[0] and "PORT=" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "ada.token").exists()  # nothing written


def test_a_free_port_is_served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    served: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--database", f"sqlite:///{tmp_path / 'x.db'}",
                                      "--json"])
    assert result.exit_code == 0, result.output
    assert served["port"] == port and f":{port}" in result.stdout


def test_port_is_documented_and_bounded() -> None:
    help_text = CliRunner().invoke(cli, ["serve", "--help"], terminal_width=200).stdout
    assert "--port" in help_text and "PORT=" in help_text
    assert CliRunner().invoke(cli, ["serve", "--port", "70000"]).exit_code == 2
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    api_page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert "make run PORT=8001" in readme and "`--port N`" in api_page


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_passes_port_on() -> None:
    dry = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "serve --create-admin admin --host 127.0.0.1 --port 8123" in dry.stdout, dry.stdout + dry.stderr
    default = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "--port 8000" in default.stdout
