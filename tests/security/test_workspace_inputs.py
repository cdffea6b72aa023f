"""Issue 14 item 19: hostile workspace, feature-model and campaign inputs.

Every case is a file or request a person could write by mistake (or on purpose). Each must end in
a non-zero exit (or a 422) whose message names the file and line (or the request field) and the
bad value, never in a traceback, and never be accepted silently with a made-up meaning (a
campaign of 0 targets, default waves in place of the empty list asked for, a window of no time,
25.7 trillion of development cost per vehicle).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.support import DEMO_VEHICLES, bearer, error_of
from evplatform.api import create_app
from evplatform.fleet import build_demo_database
from evplatform.store import create_account, issue_token, open_store
from evplatform.workspace import demo_path
from tiny_workspace import replace_first

DEEP = 3000  # levels of nesting: past Python's default recursion limit of 1000

#: (case id, file of the demo workspace, text replaced, replacement, command run on the workspace)
WORKSPACE_CASES = [
    ("uvl-cost-text", "features.uvl", "cost 36840}", "cost 'cheap'}", ["kpi"]),
    ("impossible-launch-date", "markets/CN.yaml", "launch_date: 2024-03-28", "launch_date: 2024-02-30", ["check"]),
    ("zero-volume", "models/su7.yaml", "volume_per_year: 90000", "volume_per_year: 0", ["kpi"]),
    ("deep-yaml", "platform.yaml", "description: Modular",
     "description: " + "[" * DEEP + "]" * DEEP + " #", ["check"]),
    ("zero-lifecycle", "platform.yaml", "lifecycle_years: 6", "lifecycle_years: 0", ["kpi"]),
    ("name-is-a-list", "platform.yaml", "name: Modena", "name: [a, b]", ["check"]),
    ("model-name-is-a-list", "models/su7.yaml", "name: SU7\n", "name: [a, b]\n", ["kpi"]),
    ("uvl-cost-overflows", "features.uvl", "cost 36840}", "cost 1e400}", ["kpi"]),
    ("price-near-float-max", "models/su7.yaml", "price: 215900", "price: 1.0e308", ["kpi"]),
    ("scenario-empty-window", "fleet-scenario.yaml", 'window: ["01:00", "05:00"]', 'window: ["01:00", "01:00"]',
     ["fleet", "simulate", "--vehicles", "50", "--no-plot"]),
]


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command line, in a child process (its exit code and everything it printed)."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "evplatform", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600, check=False)


def assert_refused(result: subprocess.CompletedProcess[str], where: str, *words: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert where in output, output
    for word in words:
        assert word in output, output


@pytest.mark.parametrize(("file", "old", "new", "command"), [case[1:] for case in WORKSPACE_CASES],
                         ids=[case[0] for case in WORKSPACE_CASES])
def test_a_corrupted_workspace_is_refused_at_its_line(
    tmp_path: Path, file: str, old: str, new: str, command: list[str]
) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(demo_path(), workspace)
    line = replace_first(workspace / file, old, new)
    result = run_cli(*command[:2], workspace, *command[2:], cwd=tmp_path) if command[0] == "fleet" else run_cli(
        command[0], workspace, cwd=tmp_path)
    assert_refused(result, f"{Path(file).name}:{line}")


def test_vehicle_parameters_nested_too_deep_name_the_file(tmp_path: Path) -> None:
    params = tmp_path / "car.yaml"
    params.write_text(f"mass_kg: {'[' * DEEP}{']' * DEEP}\ndrive: RWD\nbattery_usable_kwh: 70\nmotor_power_kw: 200\n")
    result = run_cli("simulate", "--vehicle-params", params, "--cycle", "wltc", cwd=tmp_path)
    assert_refused(result, "car.yaml:1", "nested deeper")


def test_a_featureide_rule_nested_too_deep_names_its_line(tmp_path: Path) -> None:
    model = tmp_path / "deep.xml"
    model.write_text('<featureModel>\n<struct><and name="Root"><feature name="A"/></and></struct>\n'
                     "<constraints><rule>\n" + "<not>" * DEEP + "<var>A</var>" + "</not>" * DEEP
                     + "\n</rule></constraints></featureModel>\n")
    result = run_cli("fm", "analyze", model, "--op", "core", cwd=tmp_path)
    assert_refused(result, "deep.xml:4", "nested deeper than")


def test_a_deep_featureide_tree_is_read_and_written_not_a_recursion_error(tmp_path: Path) -> None:
    """UVL trees of any depth are read and written with explicit stacks; FeatureIDE XML must be too."""
    model = tmp_path / "deep.xml"
    model.write_text('<featureModel><struct><and name="Root">' + "".join(f'<and name="F{i}">' for i in range(DEEP))
                     + "</and>" * DEEP + "</and></struct></featureModel>\n")
    count = run_cli("fm", "analyze", model, "--op", "count", "--json", cwd=tmp_path)
    assert count.returncode == 0 and '"result": "' + str(DEEP + 1) + '"' in count.stdout, count.stdout + count.stderr
    converted = run_cli("fm", "convert", model, tmp_path / "back.xml", cwd=tmp_path)
    assert converted.returncode == 0, converted.stdout + converted.stderr
    written = (tmp_path / "back.xml").read_text()
    assert written.count("<and ") == DEEP and written.count("<feature ") == 1  # the deepest one is a leaf


# --- campaign requests: the API -----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("inputs") / "demo.db"
    build_demo_database(f"sqlite:///{path}", vehicles=DEMO_VEHICLES)
    store = open_store(f"sqlite:///{path}")
    try:
        create_account(store, "rita", "release_manager")
        token = issue_token(store, "rita")
    finally:
        store.dispose()
    return path, token


@pytest.fixture
def client(demo_db: tuple[Path, str], tmp_path: Path) -> Iterator[TestClient]:
    copy = tmp_path / "demo.db"
    shutil.copy(demo_db[0], copy)
    with TestClient(create_app(None, f"sqlite:///{copy}")) as test_client:
        yield test_client


CAMPAIGN_CASES = [
    ("unknown-market", {"target": {"markets": ["DEU"]}}, ("target.markets", "'DEU'", "did you mean")),
    ("unknown-trim", {"target": {"trims": ["su7/turbo"]}}, ("target.trims", "'su7/turbo'")),
    ("unknown-model", {"target": {"models": ["su8"]}}, ("target.models", "'su8'", "'su7'")),
    ("unknown-feature", {"target": {"expression": "LidarSuit & !Market_EU"}},
     ("target.expression", "'LidarSuit'", "'LidarSuite'")),
    ("empty-waves", {"waves": []}, ("waves", "at least one wave")),
    ("empty-window", {"window": ["01:00", "01:00"]}, ("window", "empty maintenance window")),
]


@pytest.mark.parametrize(("extra", "words"), [case[1:] for case in CAMPAIGN_CASES],
                         ids=[case[0] for case in CAMPAIGN_CASES])
def test_a_campaign_request_that_cannot_mean_what_it_says_is_a_422(
    client: TestClient, demo_db: tuple[Path, str], extra: dict[str, object], words: tuple[str, ...]
) -> None:
    headers = bearer(demo_db[1])
    before = client.get("/api/campaigns", headers=headers).json()
    response = client.post("/api/campaigns", headers=headers,
                           json={"name": "hostile", "release_id": "hub-os-1.7.0", **extra})
    status, _, message = error_of(response)
    assert status == 422, message
    for word in words:
        assert word in message, message
    assert client.get("/api/campaigns", headers=headers).json() == before  # nothing was written


def test_a_valid_filter_still_creates_the_campaign(client: TestClient, demo_db: tuple[Path, str]) -> None:
    """The checks above refuse only what the workspace does not have."""
    response = client.post("/api/campaigns", headers=bearer(demo_db[1]), json={
        "name": "fine", "release_id": "hub-os-1.7.0", "window": ["22:00", "04:00"],
        "target": {"markets": ["EU"], "trims": ["su7/max"], "expression": "LidarSuite"}})
    assert response.status_code == 201, response.text
