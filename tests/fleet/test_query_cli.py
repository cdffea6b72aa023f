"""`evplatform fleet vehicles --query` and `evplatform fleet groups …` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evplatform.fleet import build_demo_database


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evplatform", *args], capture_output=True, text=True, timeout=180,
                          cwd=cwd)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    database = f"sqlite:///{tmp_path_factory.mktemp('cli-query') / 'demo.db'}"
    build_demo_database(database, vehicles=400)
    return database


def test_vehicles_by_query_sorted_and_paged(url: str, tmp_path: Path) -> None:
    done = run("fleet", "vehicles", "--query", "market in (eu) and model = SU7", "--sort", "vin", "--desc",
               "--limit", "3", "--database", url, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    vins = [v["vin"] for v in data["vehicles"]]
    assert data["total"] > 3 and len(vins) == 3 and vins == sorted(vins, reverse=True)
    assert {v["model"] for v in data["vehicles"]} == {"su7"} and "CN" not in {v["market"] for v in data["vehicles"]}
    past = json.loads(run("fleet", "vehicles", "-q", "model = su7", "--page", "999", "--database", url, "--json",
                          cwd=tmp_path).stdout)
    assert past["vehicles"] == [] and past["note"].startswith("Page 999 is past the end")
    table = run("fleet", "vehicles", "-q", "model = su7", "--limit", "2", "--database", url, cwd=tmp_path)
    assert table.returncode == 0 and "vehicles match: model = su7" in table.stdout and "page 1 of" in table.stdout


def test_a_bad_query_exits_1_naming_the_column(url: str, tmp_path: Path) -> None:
    done = run("fleet", "vehicles", "-q", "model = su7 and", "--database", url, cwd=tmp_path)
    assert done.returncode == 1 and "query column 16: expected a condition" in done.stderr
    assert "Traceback" not in done.stderr


def test_groups_create_list_show_delete(url: str, tmp_path: Path) -> None:
    created = run("fleet", "groups", "create", "eu-su7", "market = EU and model = su7", "--as", "rita",
                  "--database", url, "--json", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    group = json.loads(created.stdout)
    total = json.loads(run("fleet", "vehicles", "-q", "market = EU and model = su7", "--database", url, "--json",
                           cwd=tmp_path).stdout)["total"]
    assert group["vehicles"] == total > 0 and group["created_by"] == "rita"
    listed = json.loads(run("fleet", "groups", "list", "--database", url, "--json", cwd=tmp_path).stdout)
    assert [g["name"] for g in listed["groups"]] == ["eu-su7"]
    shown = json.loads(run("fleet", "groups", "show", "eu-su7", "--limit", "2", "--database", url, "--json",
                           cwd=tmp_path).stdout)
    assert shown["group"]["name"] == "eu-su7" and shown["total"] == total and len(shown["vehicles"]) == 2
    again = run("fleet", "groups", "create", "eu-su7", "model = su7", "--database", url, cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    deleted = run("fleet", "groups", "delete", "eu-su7", "--database", url, "--json", cwd=tmp_path)
    assert json.loads(deleted.stdout) == {"name": "eu-su7", "deleted": True}
    gone = run("fleet", "groups", "show", "eu-su7", "--database", url, cwd=tmp_path)
    assert gone.returncode == 1 and "no fleet group eu-su7" in gone.stderr
