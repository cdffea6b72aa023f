"""Update records: fixed key and column order, compared byte for byte with golden files."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from evplatform.errors import OtaError
from evplatform.ota.records import (
    CSV_COLUMNS,
    ApprovalInfo,
    CompatibilityCheck,
    Preconditions,
    UpdateRecord,
    UserInformation,
    to_csv,
    to_json,
)

GOLDEN = Path(__file__).with_name("golden")
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _records() -> list[UpdateRecord]:
    approval = ApprovalInfo("DE", "KBA", "e1*156R00/00*0042", "rita.meyer", T0 - timedelta(days=3))
    ok = UpdateRecord(
        vin="LMDAB100000000002", campaign_id=7, campaign="hub-os 1.7.0 EU", release_id="hub-os-1.7.0",
        component="hub-os", ecu="central-compute", version_before="1.6.0", version_after="1.7.0", market="DE",
        rxswin_before="SU7-1A2B3C4D5E", rxswin_after="SU7-9F8E7D6C5B",
        compatibility=CompatibilityCheck("CentralCompute", True, "MD-HUB-A1", "MD-HUB-A1", "at offer"),
        approvals=(approval,),
        information=UserInformation("Faster boot, \"quieter\" chime;\nsecond line", True, "accepted"),
        preconditions=Preconditions(parked=True, state_of_charge_pct=62.0, soc_threshold_pct=30.0),
        outcome="succeeded", detail="", offered_at=T0, reported_at=T0 + timedelta(minutes=40),
    )
    not_recorded = UpdateRecord(
        vin="LMDAB100000000001", campaign_id=7, campaign="hub-os 1.7.0 EU", release_id="hub-os-1.7.0",
        component="hub-os", ecu="central-compute", version_before=None, version_after="1.7.0", market="CN",
        rxswin_before=None, rxswin_after=None,
        compatibility=CompatibilityCheck("CentralCompute", True, "MD-HUB-A1", "MD-HUB-A1", "re-evaluated at export"),
        approvals=(), information=UserInformation("Faster boot", None, None),
        preconditions=Preconditions(parked=None, state_of_charge_pct=None, soc_threshold_pct=30.0),
        outcome="rolled_back", detail="power loss during installation: fell back to the previous slot",
        offered_at=None, reported_at=T0 + timedelta(minutes=5, microseconds=250),
    )
    return [ok, not_recorded]


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_export_matches_the_golden_file(kind: str) -> None:
    text = to_json(_records(), generated_at=T0 + timedelta(hours=1)) if kind == "json" else to_csv(_records())
    golden = GOLDEN / f"update_records.{kind}"
    if os.environ.get("EVPLATFORM_UPDATE_GOLDEN") == "1":
        golden.write_bytes(text.encode("utf-8"))
    assert text.encode("utf-8") == golden.read_bytes()


def test_export_is_independent_of_input_order() -> None:
    records = _records()
    assert to_json(records) == to_json(records[::-1])
    assert to_csv(records) == to_csv(records[::-1])


def test_csv_reads_back_with_every_column() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(_records()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    first, second = rows  # sorted by report time: the rolled-back one came first
    assert first["vin"] == "LMDAB100000000001" and first["rxswin_before"] == "not recorded"
    assert first["preconditions_result"] == "not recorded" and first["approvals"] == "none"
    assert second["release_notes"] == "Faster boot, \"quieter\" chime;\nsecond line"
    assert second["approvals"] == "DE|KBA|e1*156R00/00*0042|rita.meyer|2026-11-28T02:00:00Z"
    assert second["compatibility_result"] == "true" and second["preconditions_result"] == "true"


def test_json_key_order_and_utc_times() -> None:
    document = json.loads(to_json(_records()))
    assert list(document) == ["format", "format_version", "regulations", "generated_at", "count", "records"]
    record = document["records"][1]
    assert list(record)[:4] == ["vin", "campaign_id", "campaign", "release_id"]
    assert record["reported_at"] == "2026-12-01T02:40:00Z"
    assert record["compatibility"]["result"] is True


def test_precondition_results() -> None:
    assert Preconditions(True, 31.0, 30.0).result is True
    assert Preconditions(True, 30.0, 30.0).result is True  # "at least" the threshold
    assert Preconditions(True, 29.9, 30.0).result is False
    assert Preconditions(False, None, 30.0).result is False  # a failed check needs no other
    assert Preconditions(True, None, 30.0).result is None


def test_compatibility_fails_on_the_wrong_hardware() -> None:
    assert not CompatibilityCheck("A", True, "HW-1", "HW-2", "at offer").result
    assert not CompatibilityCheck("A", False, "HW-1", "HW-1", "at offer").result


def test_bad_records_are_refused() -> None:
    good = _records()[0]
    with pytest.raises(OtaError, match="unknown outcome"):
        UpdateRecord(**{**_fields(good), "outcome": "postponed"})
    with pytest.raises(OtaError, match="naive"):
        UpdateRecord(**{**_fields(good), "reported_at": datetime(2026, 1, 1)})


def test_times_are_converted_to_utc() -> None:
    good = _records()[0]
    local = (T0 + timedelta(minutes=40)).astimezone(timezone(timedelta(hours=8)))
    again = UpdateRecord(**{**_fields(good), "reported_at": local})
    assert to_json([again]) == to_json([good])


def _fields(record: UpdateRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}
