"""Issue 18 §2: two `evplatform serve` processes on different ports against one PostgreSQL database answer
as one server — a signed request replayed to the second is refused, and rate limits are counted once for
both, in the database or (``--redis``) in Redis. Then ``serve --workers 2``: N processes on one port.

Real servers in subprocesses (nothing shared but the database and Redis), a database of their own
created for the module and dropped after it. Skips with the reason when PostgreSQL or Redis is absent.
Were the counters or the replay guard kept per process, the split requests below would each stay
under the limit and the replay would be accepted: these tests would fail.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from nacl.signing import SigningKey
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from evplatform.api.auth import public_key_text, sign_request
from evplatform.fleet import build_demo_database
from evplatform.store import create_account, issue_token, open_store
from evplatform.store import vehicles as vdb
from store_fixtures import postgres_admin_url, redis_url  # noqa: F401

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads worker processes from /proc")]

CHECK = "/api/vehicle/update-check"
LIMIT = 4
#: An hour: a window edge (which resets the counts) inside a test is one chance in hundreds.
WINDOW = 3600
VEHICLES = 12


@dataclass(frozen=True)
class Fleet:
    url: str
    keys: dict[str, SigningKey]  # one vehicle per test: each its own budget
    tokens: list[str]

    def vehicle(self, index: int) -> tuple[str, SigningKey]:
        vin = sorted(self.keys)[index]
        return vin, self.keys[vin]


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    """A database of the module's own on the PostgreSQL server: a small demo fleet with keys and tokens."""
    admin = postgres_admin_url()
    name = f"evplatform_instances_{uuid.uuid4().hex[:10]}"
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # any driver or network failure means "no server"
        if os.environ.get("EVPLATFORM_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL not reachable: {error}")
        pytest.skip(f"PostgreSQL not reachable at {make_url(admin).render_as_string()}: {str(error).splitlines()[0]}")
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        build_demo_database(url, vehicles=VEHICLES)
        with open_store(url) as store:
            keys = {}
            for vehicle in vdb.list_vehicles(store, limit=8):
                keys[vehicle.vin] = SigningKey.generate()
                vdb.set_public_key(store, vehicle.vin, public_key_text(keys[vehicle.vin]))
            create_account(store, "ops", "viewer")
            tokens = [issue_token(store, "ops") for _ in range(4)]
        yield Fleet(url, keys, tokens)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(folder: Path, database: str, *extra: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = _free_port()
    log = folder / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "evplatform", "serve", "--database", database, "--port", str(port),
             "--vehicle-rate", f"{LIMIT}/{WINDOW}", "--token-rate", f"{LIMIT}/{WINDOW}", "--log-level", "warning",
             *extra],
            stdout=out, stderr=subprocess.STDOUT, cwd=folder, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return process, f"http://127.0.0.1:{port}", log


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.3)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module", params=["database", "redis"])
def instances(request: pytest.FixtureRequest, fleet: Fleet, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[str, str, str]]:
    """Two servers on one database — counting rate limits in it, or in Redis: (URL, URL, counted in)."""
    extra: tuple[str, ...] = ()
    if request.param == "redis":
        extra = ("--redis", request.getfixturevalue("redis_url"))
    folder = tmp_path_factory.mktemp(f"instances-{request.param}")
    started = [_start(folder, fleet.url, *extra) for _ in range(2)]
    try:
        for process, url, log in started:
            _wait_until_up(url, process, log)
        yield started[0][1], started[1][1], request.param
    finally:
        for process, _, _ in started:
            _stop(process)


def _signed(vin: str, key: SigningKey) -> dict[str, str]:
    return sign_request(key, vin, "POST", CHECK)


def _limited(response: httpx.Response) -> bool:
    """A 429 in the one error shape, with Retry-After in whole seconds within the window."""
    if response.status_code != 429:
        return False
    error = response.json()["error"]
    assert (error["status"], error["type"]) == (429, "RateLimited") and f"{LIMIT} per {WINDOW} s" in error["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW
    return True


def _forget_in_redis(counted_in: str, subject: str) -> None:
    """Redis outlives the database: counts of this VIN from an earlier run must not spend this run's budget."""
    if counted_in == "redis":
        import redis

        client = redis.Redis.from_url(os.environ.get("EVPLATFORM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
        try:
            for name in client.scan_iter(match=f"evplatform:rate:{subject}:*"):
                client.delete(name)
        finally:
            client.close()


def _counter_rows(fleet: Fleet, key: str) -> int:
    with open_store(fleet.url) as store, store.session() as session:
        return int(session.scalar(text("SELECT count(*) FROM rate_counters WHERE key = :k"), {"k": key}) or 0)


def test_a_request_replayed_to_the_other_instance_is_refused(instances: tuple[str, str, str], fleet: Fleet) -> None:
    first, second, counted_in = instances
    vin, key = fleet.vehicle(0 if counted_in == "database" else 1)
    _forget_in_redis(counted_in, f"vehicle:{vin}")
    headers = _signed(vin, key)
    assert httpx.post(first + CHECK, headers=headers).status_code == 200
    replay = httpx.post(second + CHECK, headers=headers)
    assert replay.status_code == 401
    assert replay.json()["error"]["message"] == "this signed request was already used (replay)"


def test_a_vehicles_limit_is_counted_once_for_both_instances(instances: tuple[str, str, str], fleet: Fleet) -> None:
    first, second, counted_in = instances
    vin, key = fleet.vehicle(2 if counted_in == "database" else 3)
    _forget_in_redis(counted_in, f"vehicle:{vin}")
    answers = [httpx.post(url + CHECK, headers=_signed(vin, key)) for url in (first, second) * (LIMIT // 2)]
    assert [a.status_code for a in answers] == [200] * LIMIT  # each instance saw only LIMIT/2
    assert _limited(httpx.post(first + CHECK, headers=_signed(vin, key)))
    assert _limited(httpx.post(second + CHECK, headers=_signed(vin, key)))
    other_vin, other_key = fleet.vehicle(4 if counted_in == "database" else 5)
    _forget_in_redis(counted_in, f"vehicle:{other_vin}")
    assert httpx.post(second + CHECK, headers=_signed(other_vin, other_key)).status_code == 200  # its own budget
    # where the count lives: the database's table, or Redis and not the table
    assert _counter_rows(fleet, f"vehicle:{vin}") == (1 if counted_in == "database" else 0)


def test_a_tokens_limit_is_counted_once_for_both_instances(instances: tuple[str, str, str], fleet: Fleet) -> None:
    first, second, counted_in = instances
    token = fleet.tokens[0 if counted_in == "database" else 1]  # random tokens: nothing to forget in Redis
    auth = {"Authorization": f"Bearer {token}"}
    assert [httpx.get(url + "/api/me", headers=auth).status_code for url in (second, first) * (LIMIT // 2)] == [
        200] * LIMIT
    assert _limited(httpx.get(first + "/api/me", headers=auth))
    assert _limited(httpx.get(second + "/api/me", headers=auth))


def _update_checks_counted(exposition: str) -> dict[str, int]:
    """``evplatform_http_requests_total`` of the update-check route, by status."""
    counted: dict[str, int] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "evplatform_http_requests_total" and sample.labels.get("route") == CHECK:
                counted[sample.labels["status"]] = int(sample.value)
    return counted


def _worker_pids(parent: int) -> list[int]:
    """The parent's child processes that run a worker (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(pid) for pid in children
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_serve_with_two_workers_shares_one_port_and_stops_on_sigterm(fleet: Fleet, tmp_path: Path) -> None:
    """`serve --workers 2`: two worker processes behind one port, the admin token printed once by the
    parent, the limits shared by the workers, /metrics summing both workers' counts, and SIGTERM
    ending the parent and both workers."""
    process, url, log = _start(tmp_path, fleet.url, "--workers", "2", "--graceful-timeout", "5",
                               "--create-admin", "root", "--token-file", str(tmp_path / "root.token"), "--json")
    try:
        _wait_until_up(url, process, log)
        workers = _worker_pids(process.pid)
        assert len(workers) == 2, workers
        text_out = log.read_text()
        printed, _ = json.JSONDecoder().raw_decode(text_out, text_out.index("{"))
        assert printed["workers"] == 2 and printed["admin"]["token"] == (tmp_path / "root.token").read_text().strip()
        auth = {"Authorization": f"Bearer {printed['admin']['token']}"}
        assert httpx.get(url + "/api/me", headers=auth).json() == {"name": "root", "role": "admin"}
        vin, key = fleet.vehicle(6)
        answers = []
        for _ in range(LIMIT + 1):  # a new connection each: the kernel hands them to either worker
            with httpx.Client() as client:
                answers.append(client.post(url + CHECK, headers=_signed(vin, key)))
        assert [a.status_code for a in answers[:LIMIT]] == [200] * LIMIT and _limited(answers[LIMIT])
        for _ in range(LIMIT - 1):  # whichever worker answers the scrape, it counts every worker's requests
            with httpx.Client() as client:
                counted = _update_checks_counted(client.get(url + "/metrics", headers=auth).text)
            assert counted == {"200": LIMIT, "429": 1}
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert time.monotonic() - started < 15
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    finally:
        _stop(process)
