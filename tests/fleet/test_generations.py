"""Per-vehicle generation numbers (migration 0012): moved by exactly the changes that can change an
update check's answer, on SQLite and PostgreSQL; and the tag/lookup rules built on them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select, update

from evplatform.fleet import campaign_recovery as fr
from evplatform.fleet import campaigns as fc
from evplatform.fleet.gates import MaintenanceWindow, WavePolicy
from evplatform.fleet.generations import MAX_TAG_LIFE, CheckTag, Lookup, LookupCache, answer_until, held_tag
from evplatform.fleet.offers import answer_update_check
from evplatform.fleet.targets import TargetFilter
from evplatform.fleet.telemetry import TelemetryEvent, ingest
from evplatform.store import Store
from evplatform.store import vehicles as vdb
from evplatform.store.campaign_recovery import Cohort
from evplatform.store.generations import bump_generation, generation
from evplatform.store.offers import OpenOffer
from evplatform.store.schema import CampaignVehicle, Vehicle
from fleet.test_polling import counted_writes
from fleet_support import T0, approve

NIGHT = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai


def _generations(store: Store, vins: list[str]) -> dict[str, int]:
    return {vin: generation(store, vin) or 0 for vin in vins}


def _wave_of(store: Store, cid: int, vin: str) -> int | None:
    with store.session() as session:
        return session.scalar(select(CampaignVehicle.wave).join(Vehicle, Vehicle.id == CampaignVehicle.vehicle_id)
                              .where(CampaignVehicle.campaign_id == cid, Vehicle.vin == vin))


def test_generations_move_with_exactly_what_concerns_the_vehicle(fleet: Store) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(fleet, name="gen", release_id="hub-os-1.7.0", target=TargetFilter(markets=("CN",)),
                             waves=(WavePolicy(0.5), WavePolicy(1.0)), now=T0)
    china = [v.vin for v in vdb.list_vehicles(fleet, market="CN", limit=600)]
    germany = [v.vin for v in vdb.list_vehicles(fleet, market="DE", limit=600)]
    before = _generations(fleet, china + germany)
    fc.start_campaign(fleet, cid, now=T0)  # targets written: every Chinese vehicle's answer may change
    started = _generations(fleet, china + germany)
    assert all(started[v] > before[v] for v in china)
    assert all(started[v] == before[v] for v in germany)  # another vehicle's campaign: not theirs

    first = next(v for v in china if _wave_of(fleet, cid, v) == 0)
    second = next(v for v in china if _wave_of(fleet, cid, v) == 1)
    now = _generations(fleet, [first, second])
    answer_update_check(fleet, first, NIGHT)  # pending → offered: the same answer, no news
    ingest(fleet, [TelemetryEvent(first, "soc", NIGHT, value=80.0)])  # telemetry is not an answer
    assert _generations(fleet, [first, second]) == now

    fc.report(fleet, cid, first, "succeeded", at=NIGHT)  # its own answer: nothing left for it
    assert generation(fleet, first) == now[first] + 1 and generation(fleet, second) == now[second]

    now = _generations(fleet, [first, second])
    fr.open_next_wave(fleet, cid, actor="rita", reason="go on")  # wave 1 opens: only its vehicles move
    assert generation(fleet, second) == now[second] + 1 and generation(fleet, first) == now[first]

    now = _generations(fleet, [first, second])
    fc.pause_campaign(fleet, cid)  # campaign state: its open targets move; an answered one keeps its answer
    assert generation(fleet, second) == now[second] + 1 and generation(fleet, first) == now[first]

    now = _generations(fleet, [second])
    record = vdb.vehicle_by_vin(fleet, second)
    assert record is not None
    fr.exclude(fleet, cid, Cohort(model=record.model, trim=record.trim), actor="rita", reason="left out")
    assert (generation(fleet, second) or 0) > now[second]

    now = _generations(fleet, [second, germany[0]])
    with fleet.session() as session:
        session.execute(update(Vehicle).where(Vehicle.vin == second).values(timezone="Asia/Tokyo"))
    assert generation(fleet, second) == now[second] + 1  # its maintenance window moves with its time zone
    assert bump_generation(fleet, germany[0]) and generation(fleet, germany[0]) == now[germany[0]] + 1
    assert not bump_generation(fleet, "NO-SUCH-VIN") and generation(fleet, "NO-SUCH-VIN") is None


def _offer(start: str | None, end: str | None, timezone: str = "Asia/Shanghai") -> OpenOffer:
    return OpenOffer(1, "r", "hub-os", "hub", "hw", "1.0", False, start, end, timezone, "pending")


def test_a_windowed_answer_holds_until_the_next_window_boundary() -> None:
    noon = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    assert answer_until([_offer(None, None)], noon) == 0  # no window: time cannot change the answer
    opens = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)  # 02:00 next day in Shanghai
    assert answer_until([_offer("02:00", "04:00")], opens - timedelta(minutes=30)) == int(opens.timestamp())
    assert answer_until([_offer("02:00", "04:00")], noon) == int((noon + MAX_TAG_LIFE).timestamp())  # capped
    closes = datetime(2026, 11, 3, 20, 0, tzinfo=UTC)  # 04:00 in Shanghai
    assert answer_until([_offer("02:00", "04:00")], closes - timedelta(minutes=30)) == int(closes.timestamp())
    assert answer_until([_offer("02:00", "04:00"), _offer("12:20", "14:00")], noon) == int(
        (noon + timedelta(minutes=20)).timestamp())  # the nearest boundary of any offer
    tag = CheckTag(7, 300, int(opens.timestamp()))
    assert CheckTag.parse(tag.text().strip('"').join('""')) == tag
    assert tag.holds(7, opens - timedelta(seconds=1)) and not tag.holds(7, opens) and not tag.holds(8, noon)
    assert held_tag(['"x"', tag.text()], 7, noon) == tag and held_tag([tag.text()], None, noon) is None
    assert CheckTag.parse('"g1.300"') is None and CheckTag.parse('"0123abcd"') is None


def test_the_lookup_is_reused_only_at_its_generation(fleet: Store) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    vin = vdb.list_vehicles(fleet, market="CN", limit=1)[0].vin
    cache = LookupCache(capacity=2)
    reads: list[str] = []

    def seen(_c: object, _cur: object, statement: str, *_a: object) -> None:
        reads.append(statement)

    event.listen(fleet.engine, "before_cursor_execute", seen)
    try:
        g = generation(fleet, vin) or 0
        assert answer_update_check(fleet, vin, NIGHT, generation=g, lookups=cache).state == "idle"
        reads.clear()
        with counted_writes(fleet) as writes:
            assert answer_update_check(fleet, vin, NIGHT, generation=g, lookups=cache).state == "idle"
        assert reads == [] and writes == []  # same generation: not one statement
        cid = fc.create_campaign(fleet, name="c", release_id="hub-os-1.7.0", target=TargetFilter(markets=("CN",)),
                                 waves=(WavePolicy(1.0),), window=MaintenanceWindow.parse("02:00", "04:00"), now=T0)
        fc.start_campaign(fleet, cid, now=T0)
        moved = generation(fleet, vin) or 0
        assert moved > g
        answer = answer_update_check(fleet, vin, NIGHT, generation=moved, lookups=cache)
        assert answer.offer is not None and answer.offer.campaign_id == cid  # the new generation read again
    finally:
        event.remove(fleet.engine, "before_cursor_execute", seen)
    small = LookupCache(capacity=2)
    for name in ("A", "B", "C"):
        small.put(name, Lookup(1, [], False))
    assert len(small) == 2 and small.get("A", 1) is None and small.get("C", 1) is not None  # bounded
