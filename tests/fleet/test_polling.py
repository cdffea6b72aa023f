"""The poll-interval hint of an update check, and that a check with nothing new writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select

from evplatform.fleet import campaigns as fc
from evplatform.fleet.gates import MaintenanceWindow, WavePolicy
from evplatform.fleet.offers import answer_update_check
from evplatform.fleet.polling import IDLE, SOON, PollState, poll_after_seconds, poll_state
from evplatform.store import Store
from evplatform.store import vehicles as vdb
from evplatform.store.schema import CampaignVehicle
from fleet_support import T0, approve

NIGHT = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai: inside 02:00–04:00
NOON = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai: outside


def test_the_rule_and_its_numbers() -> None:
    assert poll_state(open_offer=True, waiting=False) == "offer"
    assert poll_state(open_offer=True, waiting=True) == "offer"
    assert poll_state(open_offer=False, waiting=True) == "waiting"
    assert poll_state(open_offer=False, waiting=False) == "idle"
    states: tuple[PollState, ...] = ("offer", "waiting", "idle")
    assert [poll_after_seconds(s) for s in states] == [300, 300, 3_600]
    assert SOON < IDLE


@contextmanager
def counted_writes(store: Store) -> Iterator[list[str]]:
    """Every INSERT/UPDATE/DELETE the store's engine sends while the block runs."""
    writes: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        yield writes
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)


def test_hint_follows_campaign_state_and_nothing_new_writes_nothing(fleet: Store) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(fleet, name="poll", release_id="hub-os-1.7.0", waves=(WavePolicy(0.5), WavePolicy(1.0)),
                             window=MaintenanceWindow.parse("02:00", "04:00"), now=T0)
    shanghai = vdb.list_vehicles(fleet, market="CN", limit=600)
    with counted_writes(fleet) as writes:
        assert answer_update_check(fleet, shanghai[0].vin, NIGHT).state == "idle"  # a draft: nothing running
    assert writes == []
    fc.start_campaign(fleet, cid, now=T0)
    first_wave = next(v for v in shanghai if _wave(fleet, cid, v.id) == 0)
    second_wave = next(v for v in shanghai if _wave(fleet, cid, v.id) == 1)
    with counted_writes(fleet) as writes:
        closed = answer_update_check(fleet, first_wave.vin, NOON)  # open offer, window closed
        waiting = answer_update_check(fleet, second_wave.vin, NIGHT)  # its wave is not open yet
    assert (closed.offer, closed.state, closed.poll_after_s) == (None, "offer", 300)
    assert (waiting.offer, waiting.state, waiting.poll_after_s) == (None, "waiting", 300)
    assert writes == []  # nothing new: not a single INSERT, UPDATE or DELETE
    with counted_writes(fleet) as writes:
        offered = answer_update_check(fleet, first_wave.vin, NIGHT)
    assert offered.offer is not None and offered.state == "offer"
    assert len(writes) == 1 and writes[0].lstrip().upper().startswith("UPDATE")  # the offer is recorded
    fc.report(fleet, cid, first_wave.vin, "succeeded", at=NIGHT)
    assert answer_update_check(fleet, first_wave.vin, NIGHT).state == "idle"  # answered: nothing left for it
    fc.pause_campaign(fleet, cid)
    assert answer_update_check(fleet, second_wave.vin, NIGHT).poll_after_s == 3_600  # paused: idle pace


def _wave(store: Store, cid: int, vehicle_id: int) -> int:
    with store.session() as session:
        return int(session.scalar(select(CampaignVehicle.wave).where(
            CampaignVehicle.campaign_id == cid, CampaignVehicle.vehicle_id == vehicle_id)) or 0)
