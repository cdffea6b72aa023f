"""A writable copy of the demo workspace, for tests that break one insights file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evplatform.workspace import demo_path


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "modena"
    shutil.copytree(demo_path(), root)
    return root
