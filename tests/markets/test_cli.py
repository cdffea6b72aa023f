"""`evplatform comply` through the console-script entry point (in process: the CLI imports take ~20 s here)."""

from __future__ import annotations

import json
import sys

import pytest

from evplatform.cli.common import console
from evplatform.cli.main import run


def comply(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `evplatform comply ARGS`."""
    monkeypatch.setattr(sys, "argv", ["evplatform", "comply", *args])
    monkeypatch.setattr(console, "width", 160)  # as wide as a desktop terminal, so no cell is cut
    code = 0
    try:
        run()
    except SystemExit as stop:
        code = int(stop.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_one_market_as_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = comply(monkeypatch, capsys, "--market", "DE", "--date", "2027-03-01", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["market"] == "DE" and report["date"] == "2027-03-01" and report["mode"] == "new_types"
    su7 = next(v for v in report["verdicts"] if v["model"] == "su7")
    assert su7["status"] == "non-compliant" and "EU-GSR2-ADDW" in {r["regulation"] for r in su7["reasons"]}


def test_registration_mode_as_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = comply(monkeypatch, capsys, "--market", "DE", "--date", "2025-01-01", "--mode", "all", "--json")
    report = json.loads(out)
    assert code == 0 and report["mode"] == "all" and "EU-GSR2-ADDW" not in report["regulations_in_force"]


def test_people_get_a_matrix_and_reasons(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = comply(monkeypatch, capsys, "--date", "2027-03-01")
    assert code == 0, err
    assert "su7-ultra/ultra" in out and " ES " in out and "new type / registration" in out
    code, out, err = comply(monkeypatch, capsys, "--market", "CN", "--date", "2026-07-01")
    assert code == 0, err
    assert "CN-GB38031-2025" in out and "+ThermalPropagationBarrier" in out


def test_roadmap(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = comply(monkeypatch, capsys, "--roadmap", "--date", "2026-12-01", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["as_of"] == "2026-12-01" and report["roadmap"]
    assert {e["market"] for e in report["roadmap"]} == {"CN", "EU", "DE", "FR", "ES", "IT"}
    code, out, err = comply(monkeypatch, capsys, "--roadmap", "--market", "CN", "--date", "2026-12-01")
    assert code == 0, err
    assert "CN-DOOR-HANDLE" in out and "+MechanicalDoorRelease" in out and "At risk" in out
    code, out, err = comply(monkeypatch, capsys, "--roadmap", "--date", "2026-12-01")
    assert code == 0, err
    assert "EU +4" in out and " DE " not in out  # member states folded into the EU line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--market", "UK", "--date", "2027-01-01"), "unknown market 'UK'"),
        (("--market", "EU", "--date", "2027-02-30"), "date must be YYYY-MM-DD, not '2027-02-30'"),
        (("--market", "EU", "--mode", "sometimes"), "mode must be new-types or all"),
        (("--roadmap", "--market", "UK"), "unknown market 'UK'"),
    ],
)
def test_bad_input_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                           args: tuple[str, ...], message: str) -> None:
    code, out, err = comply(monkeypatch, capsys, *args)
    assert code == 1 and out == ""
    assert message in " ".join(err.split()) and "Traceback" not in err


def test_regulation_lookup(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = comply(monkeypatch, capsys, "regulation", "CN-DOOR-HANDLE", "--date", "2026-12-03", "--json")
    assert code == 0, err
    view = json.loads(out)
    assert view["regulation"] == "CN-DOOR-HANDLE" and view["applies_from"] == {"new_types": "2028-01-01",
                                                                                  "all": "2029-01-01"}
    assert view["markets"][0]["markets"] == ["CN"] and view["markets"][0]["breaking_trims"]
    code, out, err = comply(monkeypatch, capsys, "regulation", "EU-GSR2-ADDW", "--date", "2026-12-03")
    assert code == 0, err
    assert "EU +4" in out and "+ADDW" in out
    code, _, err = comply(monkeypatch, capsys, "regulation", "NOPE", "--json")
    assert code == 1 and "no regulation NOPE" in err


def test_market_lookup(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = comply(monkeypatch, capsys, "market", "DE", "--date", "2026-12-03", "--json")
    assert code == 0, err
    view = json.loads(out)
    assert view["market"] == "DE" and view["lineage"] == ["DE", "EU"] and view["roadmap"]
    assert [line["date"] for line in view["roadmap"]] == sorted(line["date"] for line in view["roadmap"])
    code, out, err = comply(monkeypatch, capsys, "market", "CN", "--date", "2026-12-03")
    assert code == 0, err
    assert "CN-DOOR-HANDLE" in out and "Cheapest fix" in out
    code, _, err = comply(monkeypatch, capsys, "market", "XX")
    assert code == 1 and "unknown market" in err


def test_a_workspace_before_the_options_still_works(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from evplatform.workspace import demo_path

    code, out, err = comply(monkeypatch, capsys, str(demo_path()), "--market", "CN", "--date", "2026-12-01", "--json")
    assert code == 0, err
    assert json.loads(out)["market"] == "CN"
