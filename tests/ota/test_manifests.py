"""Vehicle version manifests: signatures by the primary and each ECU, replay and skew refused."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from securesystemslib.formats import encode_canonical

from evplatform.errors import OtaError
from evplatform.ota.director import Director
from evplatform.ota.keys import generate_private_key, signer_of
from evplatform.ota.manifests import MAX_MANIFEST_BYTES, sign_ecu_report, sign_vehicle_manifest
from ota.conftest import FakeClock, TestVehicle, add_images, register_test_vehicle

HW = {"PRI-1": "MD-HUB-A1", "BMS-1": "MD-BMS-C1"}
IMAGES = {"PRI-1": b"hub" * 10, "BMS-1": b"bms" * 10}


def _time(clock: FakeClock) -> str:
    return clock().strftime("%Y-%m-%dT%H:%M:%SZ")


def _manifest(vehicle: TestVehicle, clock: FakeClock, counter: int, *, vin: str | None = None,
              signer_of_ecu: dict[str, Any] | None = None, primary_signer: Any = None, **report: Any) -> bytes:
    signers = signer_of_ecu or vehicle.signers
    reports = {
        serial: sign_ecu_report(signers[serial], serial, f"{serial}/img", hashlib.sha256(IMAGES[serial]).hexdigest(),
                                len(IMAGES[serial]), time=report.get("time", _time(clock)), report_counter=counter,
                                attacks_detected=report.get("attacks", ""))
        for serial in vehicle.hardware_ids
    }
    return sign_vehicle_manifest(primary_signer or vehicle.signers[vehicle.primary_serial], vin or vehicle.vin,
                                 vehicle.primary_serial, reports)


@pytest.fixture
def setup(repositories: tuple) -> tuple[Director, TestVehicle]:
    image, director, keys = repositories
    add_images(image, keys, [("hub-os/1.7.0", b"x", "MD-HUB-A1", 1)])
    return director, register_test_vehicle(director, "VIN-M1", HW)


def test_valid_manifest_recorded(setup: tuple, clock: FakeClock) -> None:
    director, vehicle = setup
    result = director.ingest_manifest(vehicle.vin, _manifest(vehicle, clock, 1))
    assert set(result.reports) == set(HW) and result.missing_ecus == ()
    record = director.vehicle(vehicle.vin)
    assert record.reports["BMS-1"].report_counter == 1
    assert record.installed["BMS-1"]["sha256"] == hashlib.sha256(IMAGES["BMS-1"]).hexdigest()
    assert result.to_json()["accepted"] is True


def test_replayed_manifest_rejected(setup: tuple, clock: FakeClock) -> None:
    director, vehicle = setup
    first = _manifest(vehicle, clock, 1)
    director.ingest_manifest(vehicle.vin, first)
    with pytest.raises(OtaError, match="replayed report"):
        director.ingest_manifest(vehicle.vin, first)
    clock.advance(minutes=1)
    director.ingest_manifest(vehicle.vin, _manifest(vehicle, clock, 2))


def test_time_going_back_rejected(setup: tuple, clock: FakeClock) -> None:
    director, vehicle = setup
    director.ingest_manifest(vehicle.vin, _manifest(vehicle, clock, 5))
    with pytest.raises(OtaError, match="before the last accepted"):
        director.ingest_manifest(vehicle.vin, _manifest(vehicle, clock, 6, time="2026-01-01T00:00:00Z"))
    assert director.vehicle(vehicle.vin).reports["PRI-1"].report_counter == 5  # nothing recorded


def test_clock_skew_rejected(setup: tuple, clock: FakeClock) -> None:
    director, vehicle = setup
    with pytest.raises(OtaError, match="clock skew"):
        director.ingest_manifest(vehicle.vin, _manifest(vehicle, clock, 1, time="2027-06-01T00:00:00Z"))


def test_bad_primary_signature(setup: tuple, clock: FakeClock) -> None:
    director, vehicle = setup
    data = json.loads(_manifest(vehicle, clock, 1))
    data["signed"]["ecu_version_reports"]["BMS-1"]["signed"]["report_counter"] = 99  # tamper after signing
    with pytest.raises(OtaError, match="bad signature"):
        director.ingest_manifest(vehicle.vin, json.dumps(data).encode())


def test_unregistered_key_rejected(setup: tuple, clock: FakeClock) -> None:
    director, vehicle = setup
    rogue = signer_of(generate_private_key())
    with pytest.raises(OtaError, match="not signed by the registered key"):
        director.ingest_manifest(vehicle.vin, _manifest(vehicle, clock, 1, primary_signer=rogue))
    with pytest.raises(OtaError, match="ECU BMS-1: not signed by the registered key"):
        director.ingest_manifest(vehicle.vin, _manifest(vehicle, clock, 1,
                                                        signer_of_ecu={**vehicle.signers, "BMS-1": rogue}))


def test_ecu_report_tampered(setup: tuple, clock: FakeClock) -> None:
    """A report changed and the manifest re-signed by the primary: the ECU signature catches it."""
    director, vehicle = setup
    data = json.loads(_manifest(vehicle, clock, 1))
    report = data["signed"]["ecu_version_reports"]["BMS-1"]
    report["signed"]["installed_image"]["filepath"] = "evil"
    reports = data["signed"]["ecu_version_reports"]
    forged = sign_vehicle_manifest(vehicle.signers["PRI-1"], vehicle.vin, "PRI-1", reports)
    with pytest.raises(OtaError, match="ECU BMS-1: bad signature"):
        director.ingest_manifest(vehicle.vin, forged)


def test_wrong_vin_unknown_vin_unknown_ecu(setup: tuple, clock: FakeClock) -> None:
    director, vehicle = setup
    with pytest.raises(OtaError, match="for VIN 'OTHER'"):
        director.ingest_manifest(vehicle.vin, _manifest(vehicle, clock, 1, vin="OTHER"))
    with pytest.raises(OtaError, match="unknown VIN"):
        director.ingest_manifest("VIN-NONE", _manifest(vehicle, clock, 1))
    other = register_test_vehicle(director, "VIN-M2", {"PRI-2": "MD-HUB-A1"})  # serials are unique per fleet
    reports = {serial: sign_ecu_report(signer, serial, "hub-os/1.7.0", hashlib.sha256(b"x").hexdigest(), 1,
                                       time=_time(clock), report_counter=1, attacks_detected="")
               for serial, signer in (("PRI-2", other.signers["PRI-2"]), ("BMS-1", vehicle.signers["BMS-1"]))}
    with pytest.raises(OtaError, match="ECU 'BMS-1' is not registered"):
        director.ingest_manifest(other.vin, sign_vehicle_manifest(other.signers["PRI-2"], other.vin, "PRI-2", reports))


def test_malformed_manifests(setup: tuple) -> None:
    director, vehicle = setup
    with pytest.raises(OtaError, match=r"1:2: malformed JSON"):
        director.ingest_manifest(vehicle.vin, b"{nope")
    with pytest.raises(OtaError, match="'signed' must be an object"):
        director.ingest_manifest(vehicle.vin, b"[]")
    with pytest.raises(OtaError, match="exceeds"):
        director.ingest_manifest(vehicle.vin, b" " * (MAX_MANIFEST_BYTES + 1))
    with pytest.raises(OtaError, match="not an integer"):
        director.ingest_manifest(vehicle.vin, b'{"signed": {"x": 1.0}}')


def test_malformed_report_after_valid_signatures(setup: tuple, clock: FakeClock) -> None:
    director, vehicle = setup
    signed = {"ecu_serial": "BMS-1", "time": _time(clock), "report_counter": 1}  # no installed_image
    text = encode_canonical(signed)
    assert text is not None
    bad = {"signed": signed, "signatures": [vehicle.signers["BMS-1"].sign(text.encode()).to_dict()]}
    data = sign_vehicle_manifest(vehicle.signers["PRI-1"], vehicle.vin, "PRI-1", {"BMS-1": bad})
    with pytest.raises(OtaError, match="malformed version report"):
        director.ingest_manifest(vehicle.vin, data)


def test_attacks_detected_are_reported(setup: tuple, clock: FakeClock) -> None:
    director, vehicle = setup
    reports = {s: sign_ecu_report(vehicle.signers[s], s, "p", "0" * 64, 3, time=_time(clock), report_counter=1,
                                  attacks_detected="freeze attack suspected" if s == "PRI-1" else "") for s in HW}
    result = director.ingest_manifest(vehicle.vin, sign_vehicle_manifest(vehicle.signers["PRI-1"], vehicle.vin,
                                                                          "PRI-1", reports))
    assert result.missing_ecus == ()
    assert result.attacks_detected == {"PRI-1": "freeze attack suspected"}


def test_a_manifest_without_every_registered_ecu_is_refused(setup: tuple, clock: FakeClock) -> None:
    """Uptane 5.4.2: a report from every ECU; leaving one out could hide what it runs."""
    director, vehicle = setup
    reports = {"PRI-1": sign_ecu_report(vehicle.signers["PRI-1"], "PRI-1", "p", "0" * 64, 3, time=_time(clock),
                                        report_counter=1)}
    with pytest.raises(OtaError, match=r"no version report from registered ECU\(s\) BMS-1"):
        director.ingest_manifest(vehicle.vin, sign_vehicle_manifest(vehicle.signers["PRI-1"], vehicle.vin,
                                                                    "PRI-1", reports))
    assert director.vehicle(vehicle.vin).reports == {}  # nothing recorded


def test_a_lone_surrogate_is_a_malformed_manifest_not_a_crash(setup: tuple, clock: FakeClock) -> None:
    director, vehicle = setup
    reports = {s: sign_ecu_report(vehicle.signers[s], s, "img", "0" * 64, 3, time=_time(clock), report_counter=1)
               for s in HW}
    data = sign_vehicle_manifest(vehicle.signers["PRI-1"], vehicle.vin, "PRI-1", reports)
    data = data.replace(b'"filepath":"img"', b'"filepath":"\\ud800"', 1)
    with pytest.raises(OtaError, match="not valid Unicode"):
        director.ingest_manifest(vehicle.vin, data)


def test_escaped_strings_take_the_canonical_path(setup: tuple, clock: FakeClock) -> None:
    """A backslash anywhere disables the C-encoder shortcut; the signature still checks out."""
    director, vehicle = setup
    reports = {s: sign_ecu_report(vehicle.signers[s], s, 'dir\\name "q"\n', "0" * 64, 3, time=_time(clock),
                                  report_counter=1) for s in HW}
    data = sign_vehicle_manifest(vehicle.signers["PRI-1"], vehicle.vin, "PRI-1", reports)
    assert b"\\" in data
    assert director.ingest_manifest(vehicle.vin, data).reports["BMS-1"].filepath == 'dir\\name "q"\n'


def test_extra_fields_take_the_generic_path(setup: tuple, clock: FakeClock) -> None:
    """Unknown fields are signed too (round-trip unchanged); a tampered one breaks the signature."""
    director, vehicle = setup
    data = json.loads(_manifest(vehicle, clock, 1))
    signed = {**data["signed"], "x_extension": 42}
    text = encode_canonical(signed)
    assert text is not None
    signature = vehicle.signers["PRI-1"].sign(text.encode()).to_dict()
    good = json.dumps({"signed": signed, "signatures": [signature]}).encode()
    assert set(director.ingest_manifest(vehicle.vin, good).reports) == set(HW)
    clock.advance(minutes=1)
    bad = json.dumps({"signed": {**signed, "x_extension": 43}, "signatures": [signature]}).encode()
    with pytest.raises(OtaError, match="bad signature"):
        director.ingest_manifest(vehicle.vin, bad)


@pytest.mark.parametrize("nonce", ["short", "ZZ" * 16, 42, "a" * 65])
def test_a_malformed_nonce_is_refused(setup: tuple, clock: FakeClock, nonce: object) -> None:
    director, vehicle = setup
    reports = {s: sign_ecu_report(vehicle.signers[s], s, "img", "0" * 64, 3, time=_time(clock), report_counter=1)
               for s in HW}
    data = sign_vehicle_manifest(vehicle.signers["PRI-1"], vehicle.vin, "PRI-1", reports)
    document = json.loads(data)
    document["signed"]["nonce"] = nonce  # the signature no longer matters: the nonce is checked first
    with pytest.raises(OtaError, match="'nonce' must be 16 to 64 hexadecimal digits"):
        director.ingest_manifest(vehicle.vin, json.dumps(document).encode())
