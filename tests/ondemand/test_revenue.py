"""MRR, attach rate per trim × market and churn, hand-computed on a four-car fleet built through the ledger."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evplatform.ondemand import ledger, revenue
from evplatform.ondemand.demo import seed_demo_entitlements
from evplatform.store import Store
from evplatform.store import entitlements as edb
from evplatform.store import vehicles as vdb
from evplatform.workspace import Workspace
from ondemand.conftest import PLAIN, RICH, RICH_2


def _pick(ws: Workspace, monthly: bool, index: int = 0) -> tuple[str, float]:
    found = [f for f in ws.on_demand.features.values() if f.monthly == monthly]
    return found[index].id, found[index].price


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def test_mrr_attach_and_churn_by_hand(tiny: Store, demo: Workspace) -> None:
    sub_a, price_a = _pick(demo, monthly=True, index=0)
    sub_b, price_b = _pick(demo, monthly=True, index=1)
    once_a, price_once_a = _pick(demo, monthly=False, index=0)
    once_b, _ = _pick(demo, monthly=False, index=1)
    channel = demo.on_demand.channels[0]
    # RICH: subscription A from 10 Jan (open), one-off B on 1 Mar, one-off A on 1 Jun.
    ledger.buy(tiny, demo, RICH, sub_a, channel=channel, actor="t", now=at(1, 10))
    ledger.buy(tiny, demo, RICH, once_b, channel=channel, actor="t", now=at(3, 1))
    ledger.buy(tiny, demo, RICH, once_a, channel=channel, actor="t", now=at(6, 1))
    # RICH_2: subscription A from 1 Feb, cancelled 1 Jun; subscription B from 20 May (open).
    ledger.buy(tiny, demo, RICH_2, sub_a, channel=channel, actor="t", now=at(2, 1))
    ledger.cancel(tiny, demo, RICH_2, sub_a, actor="t", now=at(6, 1))
    ledger.buy(tiny, demo, RICH_2, sub_b, channel=channel, actor="t", now=at(5, 20))

    report = revenue.summary(tiny, demo, at=at(6, 15))
    # MRR on 15 Jun: RICH's A and RICH_2's B are active; RICH_2's A ended on 1 Jun.
    assert report["mrr"] == pytest.approx(price_a + price_b)
    assert report["subscribers"] == 2
    # one-off revenue in [15 May, 15 Jun): only the one-off bought on 1 Jun.
    assert report["one_off_last_month"] == pytest.approx(price_once_a)
    # churn over [15 May, 15 Jun): subscribers on 15 May = both A's (B starts 20 May); one ended → 1/2.
    assert (report["churn_rate"], report["churned_last_month"], report["subscribers_month_ago"]) == (0.5, 1, 2)
    market = demo.platform.base_market
    rich_trim = vdb.vehicle_by_vin(tiny, RICH).trim_key  # type: ignore[union-attr]
    plain_trim = vdb.vehicle_by_vin(tiny, PLAIN).trim_key  # type: ignore[union-attr]
    rows = {(r["trim"], r["market"]): r for r in report["attach"]}
    rich = rows[(rich_trim, market)]
    # both rich cars hold something active on 15 Jun (RICH: A + two one-offs, RICH_2: B) → 2 / 2
    assert (rich["vehicles"], rich["with_any"], rich["attach_rate"]) == (2, 2, 1.0)
    assert rich["features"][sub_a] == {"eligible": 2, "holders": 1, "attach_rate": 0.5}
    assert rich["features"][once_b] == {"eligible": 2, "holders": 1, "attach_rate": 0.5}
    plain = rows[(plain_trim, market)]
    assert (plain["vehicles"], plain["with_any"], plain["attach_rate"]) == (2, 0, 0.0)
    assert plain["features"][sub_a] == {"eligible": 0, "holders": 0, "attach_rate": None}
    by_feature = {f["feature"]: f for f in report["by_feature"]}
    assert by_feature[sub_a]["mrr"] == pytest.approx(price_a) and by_feature[sub_a]["attach_rate"] == 0.5
    assert report["basis"] == "recorded" and report["estimate_entitlements"] == 0
    june = report["series"][-1]
    assert june["month"] == "2026-06" and june["mrr"] == pytest.approx(price_a + price_b)
    assert june["one_off"] == pytest.approx(price_once_a)
    january = report["series"][-6]
    assert january["month"] == "2026-01" and january["mrr"] == pytest.approx(price_a)  # only RICH's A at 1 Feb


def test_no_subscriber_means_no_churn_rate(tiny: Store, demo: Workspace) -> None:
    report = revenue.summary(tiny, demo, at=at(6, 15))
    assert report["mrr"] == 0 and report["churn_rate"] is None and report["entitlements"] == 0


def test_demo_take_up_is_seeded_deterministic_and_marked_estimate(tiny: Store, demo: Workspace) -> None:
    count = seed_demo_entitlements(tiny, demo, until=at(6, 1), seed=3)
    first = [(r.vin, r.feature, r.valid_from, r.valid_to, r.channel) for r in edb.entitlements(tiny)]
    assert count == len(first) and all(r.basis == "estimate" for r in edb.entitlements(tiny))
    plain = {r.vin for r in edb.entitlements(tiny)} & {PLAIN}
    assert not plain  # never seeded on hardware that cannot run the feature
    tiny.engine.dispose()
    with tiny.session() as session:
        session.query(edb.Entitlement).delete()
    assert seed_demo_entitlements(tiny, demo, until=at(6, 1), seed=3) == count
    again = [(r.vin, r.feature, r.valid_from, r.valid_to, r.channel) for r in edb.entitlements(tiny)]
    assert again == first
    assert revenue.summary(tiny, demo, at=at(6, 1))["basis"] in ("estimate", "recorded")
