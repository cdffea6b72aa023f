"""`evplatform hub keygen`, `evplatform apps token` and `evplatform hub serve` through the real entry
point, with the real kuksa-client reading the served simulation as an app would."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import grpc
import pytest
from typer.testing import CliRunner

from evplatform.cli.main import app
from evplatform.vehicle.scenarios import api_signals_report
from evplatform.workspace import load_workspace

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Protobuf gencode version", category=UserWarning)
    from kuksa.val.v2 import types_pb2 as types_v2
    from kuksa.val.v2 import val_pb2 as val_v2
    from kuksa_client.grpc import VSSClient, VSSClientError


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evplatform", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.heavy  # three processes and a 4 s serve: ~5 s idle, > 10 s on a loaded machine
def test_keygen_token_and_serve_a_moving_vehicle(tmp_path: Path) -> None:
    keys = json.loads(run("hub", "keygen", "--out", "keys", "--json", cwd=tmp_path).stdout)
    minted = run("apps", "token", "--app", "range.app", "--scope", "read:Vehicle.TraveledDistance",
                 "--scope", "read:Vehicle.Speed", "--key", keys["private_key"], "--json", cwd=tmp_path)
    assert minted.returncode == 0, minted.stderr
    tok = json.loads(minted.stdout)["token"]
    bad = run("apps", "token", "--app", "x", "--scope", "read:Vehicle.Warp", "--key", keys["private_key"],
              cwd=tmp_path)
    assert bad.returncode != 0 and "Vehicle.Warp" in bad.stderr
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "evplatform", "hub", "serve", "--port", str(port),
                               "--public-key", keys["public_key"], "--speedup", "20", "--duration", "4",
                               "--json"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        distances: list[int] = []
        deadline = time.monotonic() + 30
        while len(set(distances)) < 2 and time.monotonic() < deadline:
            try:
                with VSSClient("127.0.0.1", port, token=tok) as c:
                    request = val_v2.GetValueRequest(signal_id=types_v2.SignalID(path="Vehicle.TraveledDistance"))
                    reply = c.client_stub_v2.GetValue(request, metadata=c.generate_metadata_header(None), timeout=2)
                    if reply.data_point.HasField("value"):
                        distances.append(reply.data_point.value.uint32)
            except VSSClientError as exc:  # not listening yet
                assert exc.error["code"] == grpc.StatusCode.UNAVAILABLE.value[0], exc
            time.sleep(0.3)
        assert len(set(distances)) >= 2 and distances == sorted(distances), distances  # the car drives
    finally:
        out, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    info = json.loads(out)
    assert info["endpoint"] == f"127.0.0.1:{port}" and info["api"] == "kuksa.val.v2" and info["authorization"]
    assert {"path": "Vehicle.Speed", "kind": "sensor", "datatype": "float", "unit": "km/h"} in info["signals"]


def test_serve_refuses_without_a_key(tmp_path: Path) -> None:
    result = run("hub", "serve", "--port", "0", "--duration", "1", cwd=tmp_path)
    assert result.returncode != 0 and "hub keygen" in result.stderr


@pytest.mark.parametrize("args", [["--fault", "warp_core_breach"], ["--market", "atlantis"]])
def test_serve_names_bad_input(tmp_path: Path, args: list[str]) -> None:
    result = run("hub", "serve", "--no-auth", "--port", "0", "--duration", "1", *args, cwd=tmp_path)
    assert result.returncode != 0 and args[1] in result.stderr


def test_in_process_keygen_token_and_a_short_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same commands in process (the subprocess test above is what a user runs)."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(app, ["hub", "keygen"])
    assert made.exit_code == 0, made.output
    assert (tmp_path / ".evplatform" / "hub" / "apps-token.key").is_file()
    again = runner.invoke(app, ["hub", "keygen"])
    assert again.exit_code != 0  # never overwrites a signing key
    minted = runner.invoke(app, ["apps", "token", "--app", "a.b", "--scope", "read:Vehicle.Speed"])
    assert minted.exit_code == 0 and minted.output.count(".") >= 2, minted.output
    served = runner.invoke(app, ["hub", "serve", "--port", "0", "--duration", "1", "--speedup", "50",
                                 "--fault", "motor_derate", "--fault-at", "5"])
    assert served.exit_code == 0, served.output
    assert "vehicle API (kuksa.val.v2)" in served.output and "fault motor_derate: limp mode" in served.output
    no_key = runner.invoke(app, ["apps", "token", "--app", "a", "--scope", "read", "--key", "missing.key"])
    assert no_key.exit_code != 0 and "hub keygen" in str(no_key.exception)


def test_hub_signals_matches_the_web_table() -> None:
    result = CliRunner().invoke(app, ["hub", "signals", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == api_signals_report(load_workspace(None))
    table = CliRunner().invoke(app, ["hub", "signals"])
    assert table.exit_code == 0 and "Vehicle.Speed" in table.output
