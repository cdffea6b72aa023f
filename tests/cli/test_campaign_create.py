"""`evplatform campaign create|start|dry-run|template` through the real entry point (issue 16 §1)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evplatform.fleet import build_demo_database
from evplatform.store import campaigns as cdb
from evplatform.store import open_store
from evplatform.store import releases as rdb
from evplatform.workspace import load_workspace

RELEASE = "cockpit-9.0.0"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-vehicle demo database with release cockpit 9.0.0 registered (no approval yet)."""
    path = tmp_path_factory.mktemp("cli-campaign") / "demo.db"
    build_demo_database(f"sqlite:///{path}", vehicles=300)
    component = load_workspace(None).software["cockpit"]
    with open_store(f"sqlite:///{path}") as store:
        rdb.save_release(store, rdb.ReleaseRecord(RELEASE, "cockpit", component.ecu, component.hardware_id, "9.0.0",
                                                  component.compatible_text,
                                                  created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    return path


@pytest.fixture
def url(built: Path, tmp_path: Path) -> str:
    shutil.copy(built, tmp_path / "demo.db")
    return f"sqlite:///{tmp_path / 'demo.db'}"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evplatform", "campaign", *args], capture_output=True, text=True,
                          timeout=180, cwd=cwd)


def ok_json(*args: str, cwd: Path) -> Any:
    done = run(*args, "--json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def approve_everywhere(url: str) -> None:
    with open_store(url) as store:
        for market in ("CN", "EU"):
            rdb.save_approval(store, rdb.ApprovalRecord(RELEASE, market, "authority", f"REF-{market}", "rita",
                                                        datetime(2026, 1, 2, tzinfo=UTC)))


def test_help_lists_the_settings_and_choices(tmp_path: Path) -> None:
    done = run("create", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for option in ("--release", "--template", "--market", "--model", "--trim", "--expression", "--current-version",
                   "--wave", "--update", "--window", "--seed", "--start", "--json", "soft|forced",
                   "--consent", "[auto|required|"):  # 80 columns wrap the rest
        assert option in done.stdout, option
    listed = subprocess.run([sys.executable, "-m", "evplatform", "--help"], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert "campaign" in listed.stdout


def test_dry_run_shows_reasons_and_missing_approvals(url: str, tmp_path: Path) -> None:
    data = ok_json("dry-run", "--release", RELEASE, "--market", "EU", "--wave", "5:95:2:24", "--wave", "100",
                   "--window", "22:00-04:00", "--database", url, cwd=tmp_path)
    assert data["plan"]["waves"] == [
        {"fraction": 0.05, "success_threshold": 0.95, "error_threshold": 0.02, "soak_hours": 24.0},
        {"fraction": 1.0, "success_threshold": 0.9, "error_threshold": 0.02, "soak_hours": 0.0}]
    assert data["plan"]["window"] == ["22:00", "04:00"] and data["can_start"] is False
    assert data["approvals"]["missing"] == sorted(data["targets"]["by_market"]) != []
    with open_store(url) as store:
        assert len(cdb.list_campaigns(store)) == 2  # the demo's two: a dry run writes nothing
    text = run("dry-run", "--release", RELEASE, "--market", "EU", "--database", url, cwd=tmp_path)
    assert text.returncode == 0 and "would be refused" in text.stdout and "no approval record" in text.stdout


def test_create_draft_then_start(url: str, tmp_path: Path) -> None:
    created = ok_json("create", "--release", RELEASE, "--name", "cockpit to Europe", "--market", "EU",
                      "--update", "forced", "--wave", "50:80:5:1", "--wave", "100", "--seed", "3", "--database", url,
                      cwd=tmp_path)
    assert created["state"] == "draft" and created["forced"] is True and created["name"] == "cockpit to Europe"
    assert [w["soak_hours"] for w in created["waves"]] == [1.0, 0.0]
    refused = run("start", str(created["id"]), "--database", url, cwd=tmp_path)
    assert refused.returncode == 1 and "no approval record for market(s)" in refused.stderr
    approve_everywhere(url)
    started = ok_json("start", str(created["id"]), "--database", url, cwd=tmp_path)
    assert started["state"] == "running" and started["targets"] > 0


def test_create_and_start_refused_leaves_nothing_then_succeeds(url: str, tmp_path: Path) -> None:
    refused = run("create", "--release", RELEASE, "--market", "CN", "--start", "--database", url, cwd=tmp_path)
    assert refused.returncode == 1 and "market(s) CN" in refused.stderr and "Traceback" not in refused.stderr
    with open_store(url) as store:
        assert [c.release_id for c in cdb.list_campaigns(store)].count(RELEASE) == 0
    approve_everywhere(url)
    started = ok_json("create", "--release", RELEASE, "--market", "CN", "--start", "--database", url, cwd=tmp_path)
    assert started["state"] == "running" and started["excluded"] is not None


def test_template_copies_a_campaign_and_create_uses_it(url: str, tmp_path: Path) -> None:
    plan = ok_json("template", "1", "--database", url, cwd=tmp_path)
    assert plan["template_of"] == 1 and plan["window"] == ["01:00", "05:00"] and len(plan["waves"]) == 4
    copy = ok_json("create", "--template", "1", "--release", RELEASE, "--database", url, cwd=tmp_path)
    assert copy["plan"]["window"] == plan["window"] and copy["plan"]["waves"] == plan["waves"]
    assert copy["release"] == RELEASE and copy["plan"]["seed"] == plan["seed"]
    missing = run("template", "99", "--database", url, cwd=tmp_path)
    assert missing.returncode == 1 and "no campaign 99" in missing.stderr


def test_bad_options_are_one_line_errors(url: str, tmp_path: Path) -> None:
    for args, words in ((("--wave", "ten"), "--wave 'ten'"), (("--window", "1-5"), "not HH:MM"),
                        (("--market", "XX"), "unknown market 'XX'"), (("--wave", "50"), "last wave")):
        done = run("dry-run", "--release", RELEASE, *args, "--database", url, cwd=tmp_path)
        assert done.returncode == 1 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
    no_release = run("dry-run", "--database", url, cwd=tmp_path)
    assert no_release.returncode == 1 and "--release" in no_release.stderr


def test_consent_rule_changes_the_dry_run_and_is_kept_on_the_campaign(url: str, tmp_path: Path) -> None:
    def no_consent(*args: str) -> tuple[int, int]:
        data = ok_json("dry-run", "--release", RELEASE, "--update", "forced", *args, "--database", url, cwd=tmp_path)
        return sum(e["vehicles"] for e in data["excluded"] if e["reason"] == "no consent to updates"), \
            data["targets"]["vehicles"]

    required, asked = no_consent("--consent", "required")
    assert required > 0 and no_consent("--consent", "not_required") == (0, asked + required)
    assert no_consent() == (0, asked + required)  # auto: a forced update asks for no consent
    created = ok_json("create", "--release", RELEASE, "--update", "forced", "--consent", "required", "--database", url,
                      cwd=tmp_path)
    assert created["consent"] == "required" and created["plan"]["consent"] == "required"
    assert ok_json("template", str(created["id"]), "--database", url, cwd=tmp_path)["consent"] == "required"
    bad = run("dry-run", "--release", RELEASE, "--consent", "maybe", "--database", url, cwd=tmp_path)
    assert bad.returncode == 2 and "maybe" in bad.stderr and "Traceback" not in bad.stderr
