"""Fixtures of the workspace tests: a writable copy of the demo workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evplatform.workspace import demo_path


@pytest.fixture
def ws_dir(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo_path(), target)
    return target
