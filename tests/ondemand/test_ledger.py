"""Selling, refusing, cancelling and expiring paid features; the R156 record of each change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evplatform.clock import FixedClock
from evplatform.errors import ConflictError, NotFoundError
from evplatform.ondemand import activation, ledger
from evplatform.ondemand.catalogue import IncompatibleFeature, OnDemandError, eligibility
from evplatform.store import Store, audit_log
from evplatform.store import entitlements as edb
from evplatform.store import vehicles as vdb
from evplatform.workspace import Workspace
from ondemand.conftest import PLAIN, RICH, T0


def _relevant(ws: Workspace, relevant: bool, monthly: bool | None = None) -> str:
    """A paid feature with the given type-approval relevance (and billing), from the workspace."""
    return next(f.id for f in ws.on_demand.features.values()
                if f.type_approval_relevant == relevant and (monthly is None or f.monthly == monthly))


def test_the_engine_refuses_a_feature_the_hardware_cannot_run_and_writes_nothing(tiny: Store, demo: Workspace) -> None:
    feature = demo.on_demand.features[_relevant(demo, True)]
    plain = vdb.vehicle_by_vin(tiny, PLAIN)
    assert plain is not None and not feature.requires.evaluate(plain.configuration)
    with pytest.raises(IncompatibleFeature) as caught:
        ledger.buy(tiny, demo, PLAIN, feature.id, channel=demo.on_demand.channels[0], actor="sales")
    message = str(caught.value)
    assert feature.requires_text in message and PLAIN in message
    assert any(reason in message for reason in eligibility(feature, plain.configuration).reasons)
    assert "lacks " in message or "has none of" in message
    assert edb.entitlements(tiny) == [] and edb.changes(tiny) == []
    assert not [a for a in audit_log(tiny) if a.action.startswith("fod.")]


def test_reasons_name_what_the_configuration_lacks(demo: Workspace) -> None:
    feature = next(iter(demo.on_demand.features.values()))
    verdict = eligibility(feature, frozenset())
    assert not verdict.eligible
    assert all(r.startswith(("lacks ", "has none of", "(")) for r in verdict.reasons) and verdict.reasons


def test_bad_channel_unknown_feature_and_unknown_vin_are_refused(tiny: Store, demo: Workspace) -> None:
    feature = _relevant(demo, True)
    with pytest.raises(OnDemandError, match="channel"):
        ledger.buy(tiny, demo, RICH, feature, channel="street-corner", actor="sales")
    with pytest.raises(NotFoundError):
        ledger.buy(tiny, demo, RICH, "no-such-feature", channel=demo.on_demand.channels[0], actor="sales")
    with pytest.raises(NotFoundError):
        ledger.buy(tiny, demo, "LMDFDM99999999999", feature, channel=demo.on_demand.channels[0], actor="sales")
    with pytest.raises(OnDemandError, match="months"):
        ledger.buy(tiny, demo, RICH, feature, channel=demo.on_demand.channels[0], actor="sales", months=0)
    assert edb.entitlements(tiny) == []


def test_a_sale_is_priced_from_the_catalogue_audited_and_activated(tiny: Store, demo: Workspace) -> None:
    feature = demo.on_demand.features[_relevant(demo, False)]
    record, result = ledger.buy(tiny, demo, RICH, feature.id, channel=demo.on_demand.channels[-1], actor="sales")
    assert (record.price, record.billing, record.currency, record.basis) == (
        feature.price, feature.billing, demo.platform.currency, "recorded")
    assert record.valid_from == T0 and record.valid_to is None
    assert [(c.feature, c.change, c.reason) for c in result.changes] == [(feature.id, "activate", "purchase")]
    assert result.counter == 1 and not result.rxswin_changed  # not type-approval relevant
    assert [a.action for a in audit_log(tiny) if a.action.startswith("fod.")] == ["fod.sync", "fod.buy"]
    with pytest.raises(ConflictError, match="already holds"):
        ledger.buy(tiny, demo, RICH, feature.id, channel=demo.on_demand.channels[0], actor="sales")


def test_expiry_deactivates_at_the_server_clock_and_renews_the_rxswin(tiny: Store, demo: Workspace) -> None:
    feature = _relevant(demo, True)
    clock = tiny.clock
    assert isinstance(clock, FixedClock)
    before = dict(vdb.vehicle_by_vin(tiny, RICH).rxswin)  # type: ignore[union-attr]
    _, bought = ledger.buy(tiny, demo, RICH, feature, channel=demo.on_demand.channels[0], actor="sales", months=1)
    assert bought.rxswin_changed and bought.rxswin_before == before
    after_buy = dict(vdb.vehicle_by_vin(tiny, RICH).rxswin)  # type: ignore[union-attr]
    assert after_buy == dict(bought.rxswin_after) != before

    clock.advance(timedelta(days=30))  # 9 Feb: still inside the month bought on 10 Jan
    assert activation.sync(tiny, demo, RICH, actor="scheduler").changes == ()
    clock.advance(timedelta(days=1, seconds=1))  # past 10 Feb: expired on the server clock
    expired = activation.sync(tiny, demo, RICH, actor="scheduler")
    assert [(c.feature, c.change, c.reason) for c in expired.changes] == [(feature, "deactivate", "expiry")]
    assert expired.counter == 2 and dict(expired.active) == {}
    assert activation.read_configuration(expired.document or b"")["features"] == []
    assert dict(vdb.vehicle_by_vin(tiny, RICH).rxswin) == dict(expired.rxswin_after) != after_buy  # type: ignore[union-attr]
    records = activation.change_records(tiny, RICH)
    assert [(r["change"], r["type_approval_relevant"], r["rxswin_changed"]) for r in records] == [
        ("activate", True, True), ("deactivate", True, True)]
    assert activation.sync(tiny, demo, RICH, actor="scheduler").changes == ()  # nothing left to tell


def test_cancel_ends_the_entitlement_now_and_says_why(tiny: Store, demo: Workspace) -> None:
    feature = _relevant(demo, False, monthly=True)
    ledger.buy(tiny, demo, RICH, feature, channel=demo.on_demand.channels[0], actor="sales")
    clock = tiny.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(days=45))
    record, result = ledger.cancel(tiny, demo, RICH, feature, actor="owner")
    assert record.valid_to == T0 + timedelta(days=45) and record.cancelled_at == record.valid_to
    assert [(c.change, c.reason) for c in result.changes] == [("deactivate", "cancel")]
    assert not result.rxswin_changed
    with pytest.raises(ConflictError, match="no active entitlement"):
        ledger.cancel(tiny, demo, RICH, feature, actor="owner")
    rows = ledger.listing(tiny, vin=RICH)
    assert [(r["feature"], r["active"]) for r in rows] == [(feature, False)]


def test_sync_due_sweeps_every_expired_vehicle(tiny: Store, demo: Workspace) -> None:
    feature = _relevant(demo, False)
    ledger.buy(tiny, demo, RICH, feature, channel=demo.on_demand.channels[0], actor="sales", months=2)
    assert activation.sync_due(tiny, demo, actor="scheduler") == []
    clock = tiny.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(days=62))
    [swept] = activation.sync_due(tiny, demo, actor="scheduler")
    assert swept.vin == RICH and swept.changes[0].reason == "expiry"


def test_add_months_keeps_the_day_or_takes_the_last_of_the_month() -> None:
    assert ledger.add_months(T0.replace(month=1, day=31), 1).day == 28
    assert ledger.add_months(T0, 12).year == T0.year + 1
    assert ledger.add_months(T0, -1).month == 12
