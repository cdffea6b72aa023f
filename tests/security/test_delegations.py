"""Issue 14 item 6: delegations of the Image repository, as a vehicle resolves them (Uptane 5.4.4.7).

Each test serves a two-repository world (``tests/ota/uptane_world.py``) whose Image repository
delegates ``file.txt``; the Director assigns it to the vehicle's one ECU (hardware ``hw-primary``).
Deeper cases (multi-role, depth bound, cycles, the repository and the CLI) are in
``tests/ota/test_delegations.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evplatform.ota.client import errors as e
from ota.uptane_world import (
    HARDWARE_ID,
    TARGET_CONTENT,
    TARGET_NAME,
    Delegated,
    World,
    image_custom,
    sha256,
    target,
)

OTHER_CONTENT = b"wat wat WAT"  # same length as TARGET_CONTENT: only the hashes differ


def _delegated_world(**roles: dict[str, Any]) -> World:
    """A world whose top-level targets delegate ``file.txt`` to ``roles`` (in this order) and sign nothing."""
    world = World()
    world.image.targets.clear()
    for index, (name, options) in enumerate(roles.items()):
        content = options.pop("content", TARGET_CONTENT)
        signed = {TARGET_NAME: target(content, image_custom())} if content is not None else {}
        if content is not None:
            world.images[sha256(content)] = content
        world.image.delegations[name] = Delegated(keys=[6 + index % 2], targets=signed, **options)
    return world


def test_a_delegation_for_other_hardware_cannot_sign_this_ecus_image(tmp_path: Path) -> None:
    """Issue 14 item 6: a role delegated hw-other only must not speak for an hw-primary ECU (5.4.4.7 4.1)."""
    refused = _delegated_world(supplier={"custom": {"hardware_ids": ["hw-other"]}})
    with pytest.raises(e.TargetMismatchError, match="does not sign"):
        refused.client(tmp_path / "refused").update_check()
    allowed = _delegated_world(supplier={"custom": {"hardware_ids": ["hw-other", HARDWARE_ID]}})
    assert allowed.client(tmp_path / "allowed").update_check().status == "installed"


def test_the_first_listed_delegation_wins(tmp_path: Path) -> None:
    """Issue 14 item 6: two roles sign different bytes for one path: the higher-priority one is used."""
    first = _delegated_world(good={}, evil={"content": OTHER_CONTENT})
    assert first.client(tmp_path / "first").update_check().status == "installed"
    swapped = _delegated_world(evil={"content": OTHER_CONTENT}, good={})
    with pytest.raises(e.TargetMismatchError, match="hashes differ"):
        swapped.client(tmp_path / "swapped").update_check()


def test_a_terminating_delegation_ends_the_search(tmp_path: Path) -> None:
    """Issue 14 item 6 (mutation survivor, primary.py ~288-290): a terminating role that applies but does
    not sign the image stops the search; a later role that does sign it is never asked."""
    stops = _delegated_world(gate={"content": None, "terminating": True}, later={})
    with pytest.raises(e.TargetMismatchError, match="does not sign"):
        stops.client(tmp_path / "stops").update_check()
    goes_on = _delegated_world(gate={"content": None, "terminating": False}, later={})
    assert goes_on.client(tmp_path / "goes-on").update_check().status == "installed"


def test_a_terminating_delegation_for_other_hardware_does_not_end_the_search(tmp_path: Path) -> None:
    """Issue 14 item 6: a delegation that does not apply (other hardware) is skipped, terminating or not."""
    world = _delegated_world(gate={"content": None, "terminating": True, "custom": {"hardware_ids": ["hw-x"]}},
                             later={})
    assert world.client(tmp_path / "v").update_check().status == "installed"
