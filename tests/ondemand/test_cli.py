"""`evplatform fod …` with --json on a four-car fleet (the entry point's app, the store's URL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evplatform.cli import main
from evplatform.ondemand.catalogue import IncompatibleFeature
from evplatform.store import Store
from evplatform.workspace import Workspace
from ondemand.conftest import PLAIN, RICH

runner = CliRunner()


def fod(store: Store, *args: str) -> Any:
    result = runner.invoke(main.app, ["fod", *args, "--database", store.url, "--json"])
    if result.exception is not None:
        raise result.exception
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_offers_for_a_car_say_why_it_cannot_run_a_feature(tiny: Store, demo: Workspace) -> None:
    plain = fod(tiny, "offers", "--vin", PLAIN)
    assert [o["feature"] for o in plain["offers"]] == list(demo.on_demand.features)
    assert not any(o["eligible"] for o in plain["offers"]) and all(o["reasons"] for o in plain["offers"])
    rich = fod(tiny, "offers", "--vin", RICH)
    assert all(o["eligible"] and o["currency"] == demo.platform.currency for o in rich["offers"])


def test_buy_list_revenue_cancel(tiny: Store, demo: Workspace) -> None:
    feature = next(f for f in demo.on_demand.features.values() if f.monthly)
    bought = fod(tiny, "buy", RICH, feature.id, "--channel", demo.on_demand.channels[0], "--as", "ada")
    assert bought["entitlement"]["feature"] == feature.id and bought["entitlement"]["active"]
    assert bought["entitlement"]["created_by"] == "ada" and bought["delivered"] is None
    assert [c["change"] for c in bought["sync"]["changes"]] == ["activate"]
    listed = fod(tiny, "list", RICH)
    assert [e["id"] for e in listed["entitlements"]] == [bought["entitlement"]["id"]]
    assert [c["change"] for c in listed["changes"]] == ["activate"]
    assert fod(tiny, "revenue")["mrr"] == pytest.approx(feature.price)
    assert fod(tiny, "sync")["synced"] == []  # nothing expired
    cancelled = fod(tiny, "cancel", RICH, feature.id)
    assert not cancelled["entitlement"]["active"] and cancelled["sync"]["changes"][0]["reason"] == "cancel"
    assert fod(tiny, "revenue")["mrr"] == 0


def test_buying_what_the_hardware_cannot_run_fails_and_records_nothing(tiny: Store, demo: Workspace) -> None:
    feature = next(iter(demo.on_demand.features))
    with pytest.raises(IncompatibleFeature, match="cannot run on"):
        fod(tiny, "buy", PLAIN, feature, "--channel", demo.on_demand.channels[0])
    assert fod(tiny, "list")["entitlements"] == []


def test_refusal_through_the_console_script_is_one_line_and_exit_1(tiny: Store, demo: Workspace,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    feature = next(iter(demo.on_demand.features))
    monkeypatch.setattr("sys.argv", ["evplatform", "fod", "buy", PLAIN, feature, "--channel",
                                     demo.on_demand.channels[0], "--database", tiny.url])
    with pytest.raises(SystemExit) as exited:
        main.run()
    assert exited.value.code == 1
    assert "cannot run on" in capsys.readouterr().err


def test_buy_with_ota_signs_and_assigns_the_configuration(tiny: Store, demo: Workspace, tmp_path: Path) -> None:
    from evplatform.clock import system_clock
    from evplatform.ota.keys import generate_private_key, signer_of
    from evplatform.ota.service import OtaService

    root = tmp_path / "ota"
    for args in (["ota", "keys", "init", str(root / "keys"), "--insecure-demo-keys"],
                 ["ota", "init", "--root", str(root), "--insecure-demo-keys"]):
        assert runner.invoke(main.app, args).exit_code == 0
    delivery = demo.on_demand.delivery
    assert delivery is not None
    key = signer_of(generate_private_key()).public_key
    OtaService(root, system_clock).register_vehicle(RICH, "hub-1", {"hub-1": (delivery.hardware_id, key)})
    feature = next(iter(demo.on_demand.features))
    bought = fod(tiny, "buy", RICH, feature, "--channel", demo.on_demand.channels[0], "--ota", str(root),
                 "--insecure-demo-keys")
    assert bought["delivered"] == {"target": f"config/{RICH}/features-1.json", "ecu_serial": "hub-1",
                                   "release_counter": 1}
    service = OtaService(root, system_clock)
    assignment = service.vehicle(RICH).assignments["hub-1"]
    target = service.image_repository.target(assignment.filepath)
    assert target.hardware_id == delivery.hardware_id and target.release_counter == 1
    assert service.verify().ok
