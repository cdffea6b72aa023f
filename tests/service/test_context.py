"""The process-wide workspace cache: one load per unchanged folder, bounded, least recently used out."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from evplatform.errors import WorkspaceError
from evplatform.service.context import AppContext, WorkspaceCache
from evplatform.workspace import Workspace, load_workspace
from tiny_workspace import write_tiny_workspace


class CountingLoader:
    """``load_workspace`` that remembers which folders it loaded, in order."""

    def __init__(self) -> None:
        self.loaded: list[Path] = []

    def __call__(self, path: Path | None) -> Workspace:
        assert path is not None
        self.loaded.append(Path(path))
        return load_workspace(path)


@pytest.fixture
def folders(tmp_path: Path) -> list[Path]:
    made = []
    for name in ("a", "b", "c"):
        made.append(write_tiny_workspace(tmp_path / name))
    return made


def test_an_unchanged_folder_is_loaded_once(folders: list[Path]) -> None:
    loader = CountingLoader()
    cache = WorkspaceCache(capacity=2, loader=loader)
    first = cache.get(folders[0])
    assert cache.get(folders[0]) is first
    assert loader.loaded == [folders[0]]


def test_a_changed_file_reloads_and_replaces_the_entry(folders: list[Path]) -> None:
    loader = CountingLoader()
    cache = WorkspaceCache(capacity=2, loader=loader)
    first = cache.get(folders[0])
    parts = folders[0] / "parts.csv"
    stat = parts.stat()
    os.utime(parts, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = cache.get(folders[0])
    assert second is not first
    assert len(cache) == 1  # the stale load is gone, not kept beside the new one
    assert loader.loaded == [folders[0], folders[0]]


def test_the_least_recently_used_folder_is_evicted_beyond_capacity(folders: list[Path]) -> None:
    loader = CountingLoader()
    cache = WorkspaceCache(capacity=2, loader=loader)
    a, b, c = folders
    cache.get(a)
    cache.get(b)
    cache.get(a)  # a is now the most recently used
    cache.get(c)  # evicts b
    assert cache.folders() == [str(a.resolve()), str(c.resolve())]
    cache.get(b)
    assert loader.loaded == [a, b, c, b]
    assert len(cache) == 2


def test_a_folder_that_fails_to_load_is_not_cached(tmp_path: Path) -> None:
    cache = WorkspaceCache(capacity=2)
    with pytest.raises(WorkspaceError, match="workspace folder not found"):
        cache.get(tmp_path / "missing")
    assert len(cache) == 0


def test_capacity_must_hold_one_workspace() -> None:
    with pytest.raises(ValueError, match="at least one"):
        WorkspaceCache(capacity=0)


def test_results_are_computed_once_and_bounded(tmp_path: Path) -> None:
    context = AppContext(write_tiny_workspace(tmp_path / "ws"), f"sqlite:///{tmp_path / 'db.sqlite'}",
                         results_cached=2)
    calls: list[int] = []

    def compute(n: int) -> Callable[[], int]:
        def run() -> int:
            calls.append(n)
            return n * n
        return run

    assert context.cached(("square", 1), compute(1)) == 1
    assert context.cached(("square", 1), compute(1)) == 1
    context.cached(("square", 2), compute(2))
    context.cached(("square", 1), compute(1))  # 1 is now the most recently used
    context.cached(("square", 3), compute(3))  # evicts 2
    context.cached(("square", 1), compute(1))
    context.cached(("square", 2), compute(2))
    assert calls == [1, 2, 3, 2]
