"""Issue 14 ("Tests that must gain teeth"): tests written for mutants that survived the mutation run.

``benchmarks/mutation.py`` (``make mutation``) changes the client's verification code one small
fault at a time; each test here fails on at least one mutant that every other test let through
(BENCHMARKS.md lists them, and the ones that cannot be caught because they change nothing).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from evplatform.ota.client.state import ClientState
from evplatform.ota.client.trusted_set import RepositoryVersions


def test_rollback_versions_survive_a_save_and_load(tmp_path: Path) -> None:
    """Issue 14: every version a check trusted comes back after a restart (rollback protection).

    Before this test, the snapshot version or the per-file snapshot versions could be written
    under a wrong key or dropped (read back as 0, so a replayed older snapshot passed) with every
    test green: the attack tests replay within the timestamp's own rollback check.
    """
    versions = {
        "director": RepositoryVersions(timestamp=7, snapshot=5, targets=3, snapshot_meta={"targets.json": 3}),
        "image": RepositoryVersions(timestamp=11, snapshot=9, targets=4,
                                    snapshot_meta={"targets.json": 4, "vendor.json": 2}),
    }
    state = ClientState(tmp_path, dict(versions), datetime(2026, 6, 1, 12, 0, tzinfo=UTC), {"ecu-main": 4},
                        "RollbackError: replay", "ab12", timedelta(seconds=90))
    state.save()
    loaded = ClientState.load(tmp_path)
    assert loaded == state
    assert loaded.versions == versions


def test_versions_absent_from_an_old_state_file_read_as_nothing_trusted() -> None:
    """Issue 14: a state written before a key existed trusts version 0 of it, not a guess."""
    assert RepositoryVersions.from_json({}) == RepositoryVersions(0, 0, 0, {})
    assert RepositoryVersions.from_json({"snapshot": "5", "snapshot_meta": {"t.json": "2"}}) == RepositoryVersions(
        0, 5, 0, {"t.json": 2})
