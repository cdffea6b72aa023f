"""The version is written once (``evplatform.__version__``) and every surface shows that one."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

import evplatform
from evplatform.api import create_app
from evplatform.cli.main import run

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_a_release_number() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", evplatform.__version__), evplatform.__version__


def test_cli_prints_the_version(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["evplatform", "--version"])
    try:
        run()
    except SystemExit as stop:  # a success may also end with exit status 0
        assert stop.code in (0, None)
    assert capsys.readouterr().out == f"evplatform {evplatform.__version__}\n"


def test_api_reports_the_same_version(tmp_path: Path) -> None:
    app = create_app(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert app.version == evplatform.__version__


def test_pyproject_reads_the_version_from_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "evplatform.__version__"}
