"""Recording reports on SQLite and PostgreSQL: the store applies the RXSWIN rule it is given, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from evplatform.store import Store, reports
from evplatform.store import campaigns as cdb
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb

T0 = datetime(2030, 3, 1, 8, tzinfo=UTC)
VINS = [f"LMDAB10000000000{i}" for i in range(4)]


def _running(store: Store, rxswins: list[dict[str, str]]) -> tuple[int, np.ndarray]:
    (config,) = vdb.configuration_ids(store, [frozenset({"A"})]).values()
    vdb.insert_vehicles(store, [
        {"vin": vin, "model": "m", "trim": "t", "market": "DE", "timezone": "Europe/Berlin", "configuration_id": config,
         "hardware_ids": {"hub": "hw-1"}, "software": {"hub": {"component": "os", "version": "1.0"}},
         "rxswin": rxswin, "consent_telemetry": True, "consent_updates": True, "registered_at": T0}
        for vin, rxswin in zip(VINS, rxswins, strict=True)
    ])
    rdb.save_release(store, rdb.ReleaseRecord("os-2.0", "os", "hub", "hw-1", "2.0", "true"))
    cid = cdb.create_campaign(store, name="c", release_id="os-2.0", target={}, waves=[(1.0, 0.5, 0.5, 0.0)],
                              forced=True, window=None, seed=0, created_by="test", at=T0)
    ids = np.array(sorted(vdb.vehicle_ids(store, VINS).values()), dtype=np.int64)
    cdb.assign_targets(store, cid, ids, np.zeros(len(ids), dtype=np.int64), np.full(len(ids), "m/t", dtype=object),
                       timezones=["Europe/Berlin"], actor="test", at=T0)
    return cid, ids


def _rxswin(store: Store, vin: str) -> dict[str, str]:
    found = vdb.vehicle_by_vin(store, vin)
    assert found is not None
    return dict(found.rxswin)


def test_the_given_rule_renews_the_rxswin_of_successes_only_once(store: Store) -> None:
    cid, ids = _running(store, [{"R156": "R156-TYPE-0001"}] * len(VINS))
    calls: list[tuple[str, str]] = []

    def rule(current: str, release_id: str) -> str:
        calls.append((current, release_id))
        return f"{current}>{release_id}"

    outcomes = np.array(["succeeded", "succeeded", "failed"], dtype=object)
    at = T0 + timedelta(hours=1)
    assert reports.record_reports(store, cid, ids[:3], outcomes, at=at, rxswin_rule=rule) == 3
    assert calls == [("R156-TYPE-0001", "os-2.0")]  # one distinct RXSWIN: one evaluation, one UPDATE
    assert [_rxswin(store, v)["R156"] for v in VINS] == [
        "R156-TYPE-0001>os-2.0", "R156-TYPE-0001>os-2.0", "R156-TYPE-0001", "R156-TYPE-0001",
    ]
    assert vdb.vehicle_by_vin(store, VINS[0]).software["hub"] == {"component": "os", "version": "2.0"}  # type: ignore[union-attr]
    # a repeated report counts nothing and renews nothing
    assert reports.record_reports(store, cid, ids[:1], outcomes[:1], at=at + timedelta(hours=1), rxswin_rule=rule) == 0
    assert _rxswin(store, VINS[0])["R156"] == "R156-TYPE-0001>os-2.0"


def test_without_a_rule_or_an_rxswin_nothing_is_renewed(store: Store) -> None:
    cid, ids = _running(store, [{}] + [{"R156": "R156-TYPE-0002"}] * (len(VINS) - 1))
    at = T0 + timedelta(hours=1)
    succeeded = np.array(["succeeded"], dtype=object)
    assert reports.record_reports(store, cid, ids[:1], succeeded, at=at, rxswin_rule=lambda c, r: "never") == 1
    assert _rxswin(store, VINS[0]) == {}  # no UN R156 RXSWIN (e.g. China): the rule is not applied
    assert reports.record_reports(store, cid, ids[1:2], succeeded, at=at) == 1
    assert _rxswin(store, VINS[1]) == {"R156": "R156-TYPE-0002"}  # no rule given: kept


def test_campaigns_module_still_offers_the_report_functions() -> None:
    assert cdb.record_reports is reports.record_reports and cdb.FINAL_OUTCOMES == reports.FINAL_OUTCOMES
