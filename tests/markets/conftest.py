"""Fixtures of the markets tests: the demo loaded once, and a copy of it to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evplatform.workspace import Workspace, demo_path, load_workspace


@pytest.fixture(scope="session")
def demo() -> Workspace:
    return load_workspace(None)


@pytest.fixture
def ws_dir(tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo_path(), target)
    return target
