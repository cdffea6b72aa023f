"""Verdicts on the demo's real findings and on a tiny hand-checked workspace."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from evplatform.errors import MarketsError
from evplatform.markets import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, compliance_report, market_verdicts
from evplatform.workspace import Workspace, load_workspace
from tiny_workspace import write_tiny_workspace


def verdicts(ws: Workspace, market: str, on: str, mode: str = "new_types") -> dict[str, dict[str, object]]:
    report = compliance_report(ws, market, date.fromisoformat(on), mode)
    return {f"{v['model']}/{v['trim']}": v for v in report["verdicts"]}


def cited(verdict: dict[str, object], kind: str = "reasons") -> dict[str, tuple[list[str], list[str]]]:
    items = verdict[kind]
    assert isinstance(items, list)
    return {r["regulation"]: (r["missing"], r["violating"]) for r in items}


def test_su7_for_eu_type_approval_in_2027(demo: Workspace) -> None:
    su7 = verdicts(demo, "EU", "2027-03-01")["su7/standard"]
    assert su7["status"] == NON_COMPLIANT
    assert cited(su7) == {
        "EU-GSR2-ADDW": (["ADDW"], []),
        "EU-BATT-PASSPORT": (["BatteryPassport"], []),
        "EU-EURO7-BATTERY": (["BatteryDurabilityMonitor"], []),
        "UN-R155": (["SecurityMonitoring"], []),
        "UN-R156": (["RXSWIN"], []),
    }
    # NG-eCall's dates are unverified: a warning, never a failure
    assert cited(su7, "warnings")["EU-NG-ECALL"] == (["NGECall"], [])


def test_the_yu7_max_steer_by_wire_needs_backup_power_under_r79(demo: Workspace) -> None:
    found = verdicts(demo, "DE", "2026-12-01", "all")
    assert cited(found["yu7/max"])["UN-R79"] == (["SteerBackupPower"], [])
    assert "UN-R79" not in cited(found["yu7/pro"])  # electric power steering: the rule holds


def test_china_2026_new_types_need_gb_44495_and_44496(demo: Workspace) -> None:
    before = verdicts(demo, "CN", "2025-12-31")
    on = verdicts(demo, "CN", "2026-01-01")
    assert before["su7/standard"]["status"] == COMPLIANT
    assert on["su7/standard"]["status"] == NON_COMPLIANT
    assert cited(on["su7/standard"]) == {
        "CN-GB44495": (["SecureOnboardComm", "SecurityMonitoring"], []),
        "CN-GB44496": (["SWIN", "UpdateRecovery"], []),
    }
    assert cited(on["su7-ultra/ultra"]) == {"CN-GB44495": (["SecureOnboardComm"], [])}
    assert on["yu7/standard"]["status"] == COMPLIANT  # the 2025 type was designed to both


def test_type_approval_and_registration_differ_on_the_same_day(demo: Workspace) -> None:
    new_type = cited(verdicts(demo, "EU", "2025-01-01", "new_types")["su7/pro"])
    registration = cited(verdicts(demo, "EU", "2025-01-01", "all")["su7/pro"])
    assert "EU-GSR2-ADDW" in new_type  # new types from 2024-07-07
    assert "EU-GSR2-ADDW" not in registration  # all new vehicles only from 2026-07-07
    assert {"UN-R155", "UN-R156"} <= set(registration)


def test_a_model_not_sold_in_the_market_is_not_applicable(demo: Workspace) -> None:
    ultra = verdicts(demo, "FR", "2027-03-01")["su7-ultra/ultra"]
    assert ultra["status"] == NOT_APPLICABLE and ultra["reasons"] == []
    assert "not sold in FR" in str(ultra["note"])


def test_before_any_rule_is_in_force_nothing_is_applicable(demo: Workspace) -> None:
    report = compliance_report(demo, "CN", date(2021, 12, 31), "new_types")
    assert report["regulations_in_force"] == []
    assert {v["status"] for v in report["verdicts"]} == {NOT_APPLICABLE}
    assert all("no regulation of CN is in force" in v["note"] for v in report["verdicts"])


def test_verdict_objects_agree_with_the_report(demo: Workspace) -> None:
    objects = market_verdicts(demo, "IT", date(2027, 3, 1), "all")
    report = compliance_report(demo, "IT", date(2027, 3, 1), "all")
    assert [v.status for v in objects] == [v["status"] for v in report["verdicts"]]


def tiny(tmp_path: Path, rows: str) -> Workspace:
    root = write_tiny_workspace(tmp_path)
    (root / "regulations.csv").write_text(
        "id,title,markets,requires,applies_new_types,applies_all,source,status\n" + rows)
    return load_workspace(root)


def test_a_prohibited_feature_is_violating(tmp_path: Path) -> None:
    ws = tiny(tmp_path, "NO-RADIO,No radio,HOME,!Radio,2025-01-01,2026-01-01,made up,confirmed\n")
    found = verdicts(ws, "HOME", "2025-01-01")
    assert found["beta/base"]["status"] == NON_COMPLIANT
    assert cited(found["beta/base"]) == {"NO-RADIO": ([], ["Radio"])}
    assert found["alpha/base"]["status"] == COMPLIANT
    assert verdicts(ws, "HOME", "2025-01-01", "all")["beta/base"]["status"] == NOT_APPLICABLE


def test_an_unverified_rule_warns_and_never_fails(tmp_path: Path) -> None:
    ws = tiny(tmp_path, "R-1,Radio rule,HOME,Radio,2025-01-01,,made up,unverified\n")
    alpha = verdicts(ws, "HOME", "2025-06-01")["alpha/base"]
    assert alpha["status"] == COMPLIANT
    assert cited(alpha, "warnings") == {"R-1": (["Radio"], [])}
    report = compliance_report(ws, "HOME", date(2025, 6, 1))
    assert [w["regulation"] for w in report["warnings"]] == ["R-1"]
    assert report["warnings"][0]["line"] == 2


def test_unknown_market_and_mode_are_markets_errors(demo: Workspace) -> None:
    with pytest.raises(MarketsError, match=r"unknown market 'UK' \(known: CN, EU"):
        compliance_report(demo, "UK", date(2027, 1, 1))
    with pytest.raises(MarketsError, match="mode must be"):
        compliance_report(demo, "EU", date(2027, 1, 1), "registration")
