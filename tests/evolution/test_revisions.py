"""Versions read from a temporary git repository: diff, history and the `check --against` gate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evolution_support import (
    add_feature,
    commit_all,
    copy_demo,
    drop_isa_in_eu,
    git,
    init_repo,
    invalidate_su7_standard,
    raise_body_price,
    replace,
)
from evplatform.cli.main import app
from evplatform.evolution import SideError, open_side
from evplatform.evolution.history import csv_rows, history_chart, workspace_history

runner = CliRunner()
ON = "2027-06-01"


@dataclass(frozen=True)
class Repo:
    root: Path
    ws: Path
    empty: str  # the workspace folder does not exist yet
    base: str  # the demo
    changed: str  # the known edits
    broken: str  # parts.csv names an unknown feature


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    root = init_repo(tmp_path_factory.mktemp("git") / "repo")
    (root / "README.md").write_text("platform repo\n", encoding="utf-8")
    empty = commit_all(root, "readme")
    ws = copy_demo(root / "platform" / "modena")
    base = commit_all(root, "demo")
    raise_body_price(ws)
    add_feature(ws)
    invalidate_su7_standard(ws)
    drop_isa_in_eu(ws)
    changed = commit_all(root, "known edits")
    replace(ws / "parts.csv", ",1,SedanBody\n", ",1,NoSuchFeature\n")
    broken = commit_all(root, "broken parts")
    git(root, "checkout", "-q", base, "--", "platform")  # the work tree back at the demo
    return Repo(root, ws, empty, base, changed, broken)


def test_a_revision_is_read_without_touching_the_work_tree(repo: Repo) -> None:
    before_status = git(repo.root, "status", "--porcelain")
    with open_side(repo.changed, repo.ws, "after") as side:
        assert side.revision == repo.changed and side.display_root == f"{repo.changed[:10]}:platform/modena"
        assert "DashCam" in side.workspace.feature_model.features
        assert ("su7/standard", "CN") in side.invalid
        exported = side.workspace.root
        assert exported.is_dir() and repo.root not in exported.parents
    assert not exported.exists()  # the temporary export is gone
    assert git(repo.root, "status", "--porcelain") == before_status


def test_diff_of_two_revisions_json(repo: Repo) -> None:
    done = runner.invoke(app, ["diff", repo.base, repo.changed, str(repo.ws), "--date", ON, "--json", "--draws", "200"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["before"]["revision"] == repo.base and data["after"]["revision"] == repo.changed
    assert "su7/standard@CN" in data["summary"]["became_invalid"]
    assert data["feature_model"]["names"]["features_added"] == ["DashCam"]
    assert data["npv_p50"]["draws"] == 200


def test_diff_markdown_names_the_revisions(repo: Repo) -> None:
    done = runner.invoke(app, ["diff", repo.base, repo.changed, str(repo.ws), "--date", ON, "--markdown"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"## Platform impact: `{repo.base}` → `{repo.changed}`")
    assert "| su7/standard | CN | ✅ → ❌ |" in done.stdout


@pytest.mark.parametrize(("before", "after", "side", "words"), [
    ("no-such-rev", None, "before", "unknown revision 'no-such-rev'"),
    ("EMPTY", "BASE", "before", "platform/modena does not exist at revision"),
    ("BASE", "BROKEN", "after", "platform/modena/parts.csv:"),
])
def test_unreadable_sides_exit_2_naming_the_side_and_file(repo: Repo, before: str, after: str | None, side: str,
                                                          words: str) -> None:
    names = {"EMPTY": repo.empty, "BASE": repo.base, "BROKEN": repo.broken}
    args = ["diff", names.get(before, before), *([names[after]] if after else []), str(repo.ws)]
    done = runner.invoke(app, [*args, "--json"])
    assert done.exit_code == 2
    assert f"{side}:" in done.stderr and words in done.stderr
    if after == "BROKEN":
        assert "NoSuchFeature" in done.stderr and f"{repo.broken[:10]}:" in done.stderr
    else:
        assert done.stdout == ""  # nothing could be compared


def test_a_side_that_does_not_load_still_gets_its_feature_model_compared(repo: Repo) -> None:
    """BROKEN's parts.csv names an unknown feature, so its workspace does not load; its features.uvl does:
    the feature models are compared, the report says it is partial and why, and the exit code is still 2."""
    done = runner.invoke(app, ["diff", repo.base, repo.broken, str(repo.ws), "--json", "--time-limit", "30"])
    assert done.exit_code == 2
    report = json.loads(done.stdout)
    assert report["partial"] is True and "trims" not in report
    [error] = report["errors"]
    assert error.startswith(f"after: {repo.broken[:10]}:platform/modena/parts.csv:") and "NoSuchFeature" in error
    assert report["after"]["error"] == error and report["before"]["revision"] == repo.base
    fm = report["feature_model"]
    assert fm["semantic"] is True and fm["edit_class"] == "arbitrary"  # DashCam added, a constraint added
    assert fm["names"]["features_added"] == ["DashCam"]
    text = runner.invoke(app, ["diff", repo.base, repo.broken, str(repo.ws), "--markdown"])
    assert text.exit_code == 2
    assert "(partial)" in text.stdout and "NoSuchFeature" in text.stdout and "edit class: **arbitrary**" in text.stdout


@pytest.mark.parametrize("hostile", ["--output=evil-file", "-p", "HEAD;rm -rf /", "HEAD:../.."])
def test_a_revision_that_looks_like_an_option_is_refused(repo: Repo, hostile: str) -> None:
    with pytest.raises(SideError, match="before: "), open_side(hostile, repo.ws, "before"):
        pass
    assert not (repo.root / "evil-file").exists() and not (repo.ws / "evil-file").exists()


def test_a_revision_of_a_folder_outside_git_is_refused(tmp_path: Path) -> None:
    ws = copy_demo(tmp_path / "loose")
    with pytest.raises(SideError, match="not inside a git repository"), open_side("HEAD", ws, "before"):
        pass


def test_history_has_a_row_per_commit_that_touched_the_workspace(repo: Repo, tmp_path: Path) -> None:
    data = workspace_history(repo.ws, on=date(2024, 8, 1))
    assert [r["revision"] for r in data["rows"]] == [repo.base, repo.changed, repo.broken]
    base, changed, broken = data["rows"]
    assert changed["features"] == base["features"] + 1 and changed["invalid_trims"] == 6
    assert changed["unit_cost"]["su7/pro"] == pytest.approx(base["unit_cost"]["su7/pro"] + 1000, abs=1)
    assert int(changed["configurations"]) != int(base["configurations"]) > 0
    assert base["sold"] == 37 and 0 < base["compliant_all"] <= base["sold"] and 0 <= base["compliant"] <= base["sold"]
    assert "NoSuchFeature" in broken["error"]
    header, rows = csv_rows(data)
    assert header[0] == "revision" and "unit_cost su7/pro" in header and len(rows) == 3
    assert history_chart(data).startswith(b"\x89PNG")
    since = workspace_history(repo.ws, since=repo.base, on=date(2027, 6, 1))
    assert [r["revision"] for r in since["rows"]] == [repo.changed, repo.broken]


def test_history_cli_json_and_chart(repo: Repo, tmp_path: Path) -> None:
    chart = tmp_path / "history.png"
    done = runner.invoke(app, ["history", str(repo.ws), "--since", repo.base, "--date", ON, "--json",
                               "--chart", str(chart)])
    assert done.exit_code == 0, done.output
    assert len(json.loads(done.stdout)["rows"]) == 2 and chart.read_bytes().startswith(b"\x89PNG")
    assert runner.invoke(app, ["history", str(repo.ws), "--since", "nope"]).exit_code == 2


def _gate_repo(tmp_path: Path) -> tuple[Path, str]:
    root = init_repo(tmp_path / "gate")
    ws = copy_demo(root / "ws")
    return ws, commit_all(root, "demo")


def test_check_against_passes_for_a_harmless_change(tmp_path: Path) -> None:
    ws, base = _gate_repo(tmp_path)
    replace(ws / "parts.csv", 'Body,9800.00', 'Body,9700.00')  # cheaper body
    md = tmp_path / "gate.md"
    done = runner.invoke(app, ["check", str(ws), "--against", base, "--date", ON, "--markdown", str(md)])
    assert done.exit_code == 0, done.output
    assert "passed" in done.stdout and md.read_text(encoding="utf-8").startswith("## ✅ Platform gate passed")


def test_check_against_fails_on_cost_threshold_dead_feature_invalid_trim_and_regulation(tmp_path: Path) -> None:
    ws, base = _gate_repo(tmp_path)
    raise_body_price(ws)  # +1,000 CNY on ~164,000: +0.6 %
    assert runner.invoke(app, ["check", str(ws), "--against", base, "--date", ON]).exit_code == 0
    cheap = runner.invoke(app, ["check", str(ws), "--against", base, "--date", ON, "--max-cost-increase", "0.1%",
                                "--json"])
    assert cheap.exit_code == 1
    assert {f["rule"] for f in json.loads(cheap.stdout)["gate"]["failures"]} == {"unit-cost"}
    add_feature(ws)
    replace(ws / "features.uvl", "constraints\n", "constraints\n    !DashCam\n")
    invalidate_su7_standard(ws)
    drop_isa_in_eu(ws)
    md = tmp_path / "gate.md"
    done = runner.invoke(app, ["check", str(ws), "--against", base, "--date", ON, "--markdown", str(md), "--json"])
    assert done.exit_code == 1
    failures = json.loads(done.stdout)["gate"]["failures"]
    assert {f["rule"] for f in failures} == {"dead-feature", "trim-invalid", "regulation-broken",
                                             "configurations-removed"}
    assert any(f["subject"] == "DashCam" for f in failures)
    text = md.read_text(encoding="utf-8")
    assert text.startswith("## ❌ Platform gate failed") and "**dead-feature**" in text and "EU-GSR2-ISA" in text


def test_check_against_refuses_a_specialisation_unless_allowed(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "spec")
    ws = copy_demo(root / "ws")
    add_feature(ws)  # DashCam, optional, selected by no trim
    base = commit_all(root, "demo with a dash cam option")
    replace(ws / "features.uvl", "constraints\n", "constraints\n    DashCam => ISA\n")  # fewer configurations
    done = runner.invoke(app, ["check", str(ws), "--against", base, "--date", ON, "--json"])
    assert done.exit_code == 1, done.output
    gate = json.loads(done.stdout)["gate"]
    assert [f["rule"] for f in gate["failures"]] == ["configurations-removed"]
    assert "specialisation" in gate["failures"][0]["message"]
    allowed = runner.invoke(app, ["check", str(ws), "--against", base, "--date", ON, "--allow-specialisation"])
    assert allowed.exit_code == 0, allowed.output
    git(root, "checkout", "-q", "--", "ws")
    replace(ws / "features.uvl", "                    DashCam {cost 300}\n",
            "                    DashCam {cost 300}\n                    RearCam {cost 200}\n")
    generalised = runner.invoke(app, ["check", str(ws), "--against", base, "--date", ON, "--json"])
    assert generalised.exit_code == 0, generalised.output  # a new optional feature only adds configurations
    assert json.loads(generalised.stdout)["impact"]["feature_model"]["edit_class"] == "generalisation"


def test_check_against_an_unknown_revision_exits_2(tmp_path: Path) -> None:
    ws, _ = _gate_repo(tmp_path)
    done = runner.invoke(app, ["check", str(ws), "--against", "v999"])
    assert done.exit_code == 2 and "before: unknown revision 'v999'" in done.output


def test_diff_against_the_work_tree_prints_the_report(repo: Repo) -> None:
    """``diff REV FOLDER``: REV of the folder's repository against the folder as it is now (the demo)."""
    done = runner.invoke(app, ["diff", repo.changed, str(repo.ws), "--date", ON, "--draws", "100", "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["before"]["revision"] == repo.changed and data["after"]["revision"] is None
    assert "su7/standard@CN" in data["summary"]["became_valid"]
    text = runner.invoke(app, ["diff", repo.changed, str(repo.ws), "--date", ON, "--draws", "100"])
    assert text.exit_code == 0 and "Platform impact" in text.stdout
