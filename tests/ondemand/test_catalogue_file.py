"""on-demand.yaml: bad input stops loading at file:line; a workspace without the file sells nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evplatform.errors import WorkspaceError
from evplatform.workspace import load_workspace
from evplatform.workspace.loader import demo_path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo_path(), target)
    return target


def _edit(folder: Path, old: str, new: str) -> int:
    """Replace the first ``old`` in on-demand.yaml; returns its 1-based line."""
    path = folder / "on-demand.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


@pytest.mark.parametrize(("old", "new", "message"), [
    ("requires: HV800 &", "requires: HV801 &", "unknown feature 'HV801'"),
    ("billing: one-off", "billing: weekly", "billing"),
    ("price: 9999", "price: -5", "price"),
    ("price: 9999", "prise: 9999", "unknown key 'prise'"),
    ("type_approval_relevant: false", "type_approval_relevant: maybe", "true or false"),
    ("estimated_take_up: 0.18", "estimated_take_up: 1.8", "estimated_take_up"),
])
def test_bad_feature_is_refused_at_its_line(folder: Path, old: str, new: str, message: str) -> None:
    _edit(folder, old, new)
    with pytest.raises(WorkspaceError, match=message) as caught:
        load_workspace(folder)
    assert "on-demand.yaml" in str(caught.value) and caught.value.line is not None


def test_unknown_delivery_component_and_duplicate_id(folder: Path) -> None:
    line = _edit(folder, "delivery: hub-os", "delivery: no-such-component")
    with pytest.raises(WorkspaceError, match="no-such-component") as caught:
        load_workspace(folder)
    assert caught.value.line == line
    _edit(folder, "delivery: no-such-component", "delivery: hub-os")
    _edit(folder, "id: adas-plus", "id: track-mode")
    with pytest.raises(WorkspaceError, match="duplicate feature id 'track-mode'"):
        load_workspace(folder)


def test_without_the_file_nothing_is_for_sale(folder: Path) -> None:
    (folder / "on-demand.yaml").unlink()
    ws = load_workspace(folder)
    assert ws.on_demand.features == {} and ws.on_demand.delivery is None
