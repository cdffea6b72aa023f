"""`evplatform campaign …` (issue 16 §6): every subcommand with --json on a copy of a small demo database
(campaign 2 is halted by its su7/max cohort), choices in --help, --as recorded in the audit log."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evplatform.cli import main
from evplatform.errors import FleetError
from evplatform.fleet import build_demo_database
from evplatform.fleet.campaign_states import TransitionRefused
from evplatform.store import audit_log, open_store

HALTED = "2"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("campaign-cli") / "demo.db"
    build_demo_database(f"sqlite:///{path}", vehicles=300)
    return path


@pytest.fixture
def url(demo_file: Path, tmp_path: Path) -> str:
    shutil.copy(demo_file, tmp_path / "demo.db")
    return f"sqlite:///{tmp_path / 'demo.db'}"


def cli(url: str, *args: str) -> Any:
    result = runner.invoke(main.app, ["campaign", *args, "--database", url, "--json"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_help_lists_the_subcommands_and_status_choices() -> None:
    top = runner.invoke(main.app, ["campaign", "--help"]).stdout
    for name in ("show", "vehicles", "pause", "resume", "ack", "exclude", "next-wave", "retry", "cancel"):
        assert name in top
    vehicles = runner.invoke(main.app, ["campaign", "vehicles", "--help"], env={"COLUMNS": "220",
                                                                                "TERMINAL_WIDTH": "220"}).stdout
    assert "pending|postponed|downloading|offline|installed|crashed|failed|rolled_back|excluded|cancelled" in vehicles
    assert runner.invoke(main.app, ["campaign", "vehicles", "2", "--status", "exploded"]).exit_code == 2


def test_show_has_history_cohorts_and_the_allowed_actions(url: str) -> None:
    data = cli(url, "show", HALTED)
    assert data["state"] == "halted" and data["allowed_actions"] == ["ack", "cancel"]
    assert [h["action"] for h in data["history"]][-1] == "halt"
    assert any(c["cohort"] == "su7/max" and c["error_rate"] for c in data["cohorts"])
    human = runner.invoke(main.app, ["campaign", "show", HALTED, "--database", url], terminal_width=200)
    assert "allowed now: ack, cancel" in human.stdout and "History" in human.stdout


def test_vehicles_pages_and_filters(url: str) -> None:
    page = cli(url, "vehicles", HALTED, "--size", "5", "--page", "2")
    assert page["page"] == 2 and len(page["vehicles"]) == 5 and page["total"] > 5
    failed = cli(url, "vehicles", HALTED, "--status", "rolled_back", "--wave", "3")
    assert failed["total"] > 0 and {v["status"] for v in failed["vehicles"]} == {"rolled_back"}
    past = cli(url, "vehicles", HALTED, "--page", "9999")
    assert past["past_end"] and "past the end" in past["message"]
    first = cli(url, "vehicles", HALTED, "--size", "5")
    keyed = cli(url, "vehicles", HALTED, "--size", "5", "--after", str(first["next_after"]))
    assert keyed["vehicles"] == page["vehicles"] and keyed["after"] == first["next_after"]  # = page 2


def test_ack_exclude_resume_with_the_actor_in_the_audit_log(url: str) -> None:
    with pytest.raises(TransitionRefused, match="allowed from halted: ack"):
        cli(url, "resume", HALTED)
    assert cli(url, "ack", HALTED, "--comment", "su7/max crashes", "--as", "rita")["state"] == "acknowledged"
    excluded = cli(url, "exclude", HALTED, "--model", "su7", "--trim", "max", "--reason", "bad image", "--as", "rita",
                   "--resume")
    assert excluded["state"] == "running" and excluded["vehicles_affected"] > 0
    assert cli(url, "pause", HALTED, "--as", "rita")["state"] == "paused"
    assert cli(url, "resume", HALTED, "--as", "rita")["state"] == "running"
    store = open_store(url)
    try:
        actions = [(e.actor, e.action) for e in audit_log(store, subject=f"campaign:{HALTED}", limit=5)]
    finally:
        store.dispose()
    assert actions == [("rita", "campaign.running"), ("rita", "campaign.paused"), ("rita", "campaign.running"),
                       ("rita", "campaign.exclude"), ("rita", "campaign.acknowledged")]


def test_retry_next_wave_and_cancel(url: str) -> None:
    cli(url, "ack", HALTED, "--comment", "try again")
    retried = cli(url, "retry", HALTED, "--reason", "flaky download", "--wave", "3")
    assert retried["vehicles_affected"] > 0
    before = cli(url, "show", HALTED)
    if before["current_wave"] + 1 < len(before["waves"]):
        assert cli(url, "next-wave", HALTED, "--reason", "canary fine")["opened_wave"] == before["current_wave"] + 2
    else:
        with pytest.raises(FleetError, match="last wave"):
            cli(url, "next-wave", HALTED, "--reason", "canary fine")
    cancelled = cli(url, "cancel", HALTED, "--reason", "superseded by 2.5.1")
    assert cancelled["state"] == "cancelled" and cancelled["cancel_reason"] == "superseded by 2.5.1"
    assert cancelled["halt_reason"] == before["halt_reason"]


def test_errors_exit_1_with_one_line(url: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "evplatform", "campaign", "resume", HALTED, "--database", url],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1 and "allowed from halted: ack (→ acknowledged), cancel" in done.stderr
    empty = subprocess.run([sys.executable, "-m", "evplatform", "campaign", "ack", HALTED, "--comment", " ",
                            "--database", url], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert empty.returncode == 1 and "a reason is required" in empty.stderr
