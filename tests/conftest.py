"""Fixtures every test folder shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference_data import shared_data_path


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder; tests using it skip with a reason when it is absent."""
    return shared_data_path()
