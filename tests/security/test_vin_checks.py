"""Issue 14 item 20: VIN checks use a full match, so ``"A\\n"`` (a trailing newline, which ``$``
accepts) is refused by the Director, which makes folder names of VINs, and by the fleet registry."""

from __future__ import annotations

import pytest

from evplatform.errors import FleetError, OtaError
from evplatform.fleet.registry import check_vin as registry_check_vin
from evplatform.ota.director import check_vin as director_check_vin

VALID = "LMDAB100000000001"


@pytest.mark.parametrize("vin", [VALID + "\n", "A\n", "\n", VALID + "\r\n"])
def test_the_director_refuses_a_vin_with_a_trailing_newline(vin: str) -> None:
    """Issue 14 item 20 (Director): a VIN is a folder name; a newline in it is refused."""
    assert director_check_vin(VALID) == VALID
    with pytest.raises(OtaError, match="not a valid VIN"):
        director_check_vin(vin)


@pytest.mark.parametrize("vin", [VALID + "\n", VALID[:-1] + "\n", "\n" + VALID, VALID + "1"])
def test_the_registry_refuses_a_vin_with_a_trailing_newline(vin: str) -> None:
    """Issue 14 item 20 (registry): ISO 3779's 17 characters and nothing after them."""
    assert registry_check_vin(VALID) == VALID
    with pytest.raises(FleetError, match="ISO 3779"):
        registry_check_vin(vin)
