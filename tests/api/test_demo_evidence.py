"""The demo database behind ``make run`` records its updates through the evidence path of real deliveries."""

from __future__ import annotations

from evplatform.fleet.update_records import update_records
from evplatform.ota.records import NOT_RECORDED, to_csv
from evplatform.store import Store


def test_every_demo_update_record_is_complete(store: Store) -> None:
    records = update_records(store)
    assert len(records) > 100
    assert {r.outcome for r in records} >= {"succeeded", "rolled_back"}
    for record in records:
        assert record.compatibility.basis == "at offer", record.vin
        assert record.version_before is not None and record.rxswin_before is not None, record.vin
        assert record.preconditions.parked is True and record.preconditions.state_of_charge_pct is not None
        assert record.preconditions.state_of_charge_pct >= record.preconditions.soc_threshold_pct
        assert record.information.notes_shown is True
        assert (record.rxswin_after != record.rxswin_before) == (record.outcome == "succeeded"), record.vin
    assert NOT_RECORDED not in to_csv(records)
