"""The load benchmark's pre-signed update checks (benchmarks/api_load.py) are requests the server accepts.

The benchmark signs every request before its timed phase and wrk replays each once through
benchmarks/api_load.lua; if the pre-signing drifted from the vehicles' signing scheme, the benchmark
would time a stream of 401s. This sends the very lines it writes through the real application.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from api.support import error_of
from evplatform.api.auth import public_key_text
from evplatform.store import Store
from evplatform.store import vehicles as vdb

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
#: The line format benchmarks/api_load.lua parses: "PATH VIN TIMESTAMP NONCE SIGNATURE".
LUA_LINE = re.compile(r"(\S+) (\S+) (\S+) (\S+) (\S+)")


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_load_bench", BENCHMARKS / "api_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_presigned_requests_are_accepted_once(client: TestClient, store: Store, tmp_path: Path) -> None:
    bench = load_benchmark()
    vins = [v.vin for v in vdb.list_vehicles(store, limit=3)]
    for vin in vins:  # the keys the benchmark provisions: derived from the VIN
        vdb.set_public_key(store, vin, public_key_text(SigningKey(bench.vehicle_seed(vin))))
    target = bench.presign(vins, tmp_path, total=6, threads=2, connections=2)
    files = sorted(tmp_path.glob("requests-*.txt"))
    assert target == 3 and len(files) == 2
    lines = [line for f in files for line in f.read_text().splitlines()]
    assert len(lines) == 2 * (3 + 1) and all(LUA_LINE.fullmatch(line) for line in lines)  # one spare a connection
    assert {line.split(" ")[0] for line in lines} == {bench.PATH}
    requests = [headers for f in files for headers in bench.read_presigned(f)]
    assert len({h["X-Vehicle-Nonce"] for h in requests}) == len(requests)
    for headers in requests:
        response = client.post(bench.PATH, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["vin"] == headers["X-Vehicle-VIN"]
    replay = client.post(bench.PATH, headers=requests[0])  # each is good exactly once
    assert error_of(replay) == (401, "Unauthenticated", "this signed request was already used (replay)")


def test_anchor_answers_the_same_request() -> None:
    bench = load_benchmark()
    with TestClient(bench.anchor_app) as anchor:
        response = anchor.post(bench.PATH, headers={"X-Vehicle-VIN": "VIN1"})
    assert response.status_code == 200 and response.json() == {"vin": "VIN1", "update": None, "poll_after_s": 3600}
