"""Issue 14 ("Tests that must gain teeth"): tests written for mutants that survived the mutation run.

``benchmarks/mutation.py`` (``make mutation``) changes the client's verification code one small
fault at a time; each test here fails on at least one mutant that every other test let through
(BENCHMARKS.md lists them, and the ones that cannot be caught because they change nothing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import Delegations, Metadata, MetaFile, Role, Root, TargetFile, Targets, Timestamp

from evplatform.ota.assignment import Assignment, DeltaOffer
from evplatform.ota.client.errors import (
    BadKeyIdError,
    BadSignatureError,
    ClientError,
    ClockSkewError,
    DirectorDelegationError,
    DuplicateEcuTargetError,
    EcuMismatchError,
    EndlessDataError,
    ExpiredMetadataError,
    HardwareMismatchError,
    IllegalThresholdError,
    ImageVerificationError,
    InstallError,
    MalformedMetadataError,
    MixAndMatchError,
    NonUniqueSignaturesError,
    RoleTypeMismatchError,
    RollbackError,
    RootRotationError,
    TargetMismatchError,
    ThresholdError,
    VehicleMismatchError,
    VerificationError,
)
from evplatform.ota.client.matching import (
    check_image,
    check_release_counter,
    check_vehicle,
    director_assignments,
    match_image_target,
)
from evplatform.ota.client.secondary import PartialVerifier
from evplatform.ota.client.secure_time import corrected, signed_time
from evplatform.ota.client.signatures import Loaded, digest, load, verify_signatures
from evplatform.ota.client.state import ClientState
from evplatform.ota.client.trusted_set import Limits, RepositoryVersions, TrustedRepository, VerifiedTargets
from ota.uptane_world import (
    ECU_SERIAL,
    HARDWARE_ID,
    KEYS,
    NOW,
    TARGET_CONTENT,
    TARGET_NAME,
    VIN,
    Delegated,
    RootSpec,
    World,
    canonical,
    keyid,
)
from ota.vehicle_support import no_fsync  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_fsync")  # the write order fsync protects is tested in test_client_slots


def test_rollback_versions_survive_a_save_and_load(tmp_path: Path) -> None:
    """Issue 14: every version a check trusted comes back after a restart (rollback protection).

    Before this test, the snapshot version or the per-file snapshot versions could be written
    under a wrong key or dropped (read back as 0, so a replayed older snapshot passed) with every
    test green: the attack tests replay within the timestamp's own rollback check.
    """
    versions = {
        "director": RepositoryVersions(timestamp=7, snapshot=5, targets=3, snapshot_meta={"targets.json": 3},
                                       signed_under={"timestamp": (("a1", "b2"), 2), "snapshot": (("c3",), 1)}),
        "image": RepositoryVersions(timestamp=11, snapshot=9, targets=4,
                                    snapshot_meta={"targets.json": 4, "vendor.json": 2}),
    }
    state = ClientState(tmp_path, dict(versions), datetime(2026, 6, 1, 12, 0, tzinfo=UTC), {"ecu-main": 4},
                        "RollbackError: replay", "ab12", timedelta(seconds=90))
    state.save()
    loaded = ClientState.load(tmp_path)
    assert loaded == state
    assert loaded.versions == versions


def test_versions_absent_from_an_old_state_file_read_as_nothing_trusted() -> None:
    """Issue 14: a state written before a key existed trusts version 0 of it, not a guess."""
    assert RepositoryVersions.from_json({}) == RepositoryVersions(0, 0, 0, {})
    assert RepositoryVersions.from_json({"snapshot": "5", "snapshot_meta": {"t.json": "2"}}) == RepositoryVersions(
        0, 5, 0, {"t.json": 2})


# -- TrustedRepository on its own (the rule checker, no I/O) ------------------------------------------
def _trusted(world: World, previous: RepositoryVersions | None = None) -> tuple[TrustedRepository, dict[str, bytes]]:
    files = dict(world.publish().files)
    return TrustedRepository("Image repository", files["image/1.root.json"], NOW, previous), files


def _up_to_snapshot(world: World) -> tuple[TrustedRepository, dict[str, bytes]]:
    trusted, files = _trusted(world)
    trusted.update_timestamp(files["image/timestamp.json"])
    trusted.update_snapshot(files["image/snapshot.json"])
    return trusted, files


def test_snapshot_shorter_than_timestamp_lists_is_mix_and_match() -> None:
    """Issue 14: a snapshot of another length than timestamp lists is refused, naming both lengths."""
    world = World()
    world.image.hooks["timestamp"] = lambda signed: signed["meta"]["snapshot.json"].update(
        length=signed["meta"]["snapshot.json"]["length"] + 5)
    trusted, files = _trusted(world)
    trusted.update_timestamp(files["image/timestamp.json"])
    size = len(files["image/snapshot.json"])
    with pytest.raises(MixAndMatchError) as raised:
        trusted.update_snapshot(files["image/snapshot.json"])
    assert str(raised.value) == f"Image repository snapshot.json: {size} bytes, the parent lists {size + 5}"


def test_update_targets_loads_the_top_level_targets_signed_by_the_root() -> None:
    """Issue 14: ``update_targets`` (the TUF order root → timestamp → snapshot → targets) had no test."""
    trusted, files = _up_to_snapshot(World())
    targets = trusted.update_targets(files["image/targets.json"])
    assert trusted.targets is targets
    assert list(targets.targets) == [TARGET_NAME]
    assert trusted.targets_bytes() == files["image/targets.json"]


def test_targets_longer_than_snapshot_lists_are_endless_data() -> None:
    """Issue 14: bytes beyond the length snapshot lists are refused before parsing, naming both sizes.

    The fetcher never reads past that length, so only a direct call reaches this second guard.
    """
    world = World()
    world.image.snapshot_hashes = True  # snapshot lists the length of targets.json
    trusted, files = _up_to_snapshot(world)
    data = files["image/targets.json"]
    with pytest.raises(EndlessDataError) as raised:
        trusted.update_targets(data + b" ")
    assert str(raised.value) == (f"Image repository targets.json: {len(data) + 1} bytes, "
                                 f"more than the {len(data)} allowed")


def test_the_snapshot_length_timestamp_lists_bounds_the_read() -> None:
    """Issue 14: snapshot is read up to the length timestamp lists (the cap only when none is listed)."""
    world = World()
    trusted, files = _trusted(world)
    trusted.update_timestamp(files["image/timestamp.json"])
    assert trusted.snapshot_max_length() == len(files["image/snapshot.json"])
    world.image.hooks["timestamp"] = lambda signed: signed["meta"]["snapshot.json"].pop("length")
    trusted, files = _trusted(world)
    trusted.update_timestamp(files["image/timestamp.json"])
    assert trusted.snapshot_max_length() == Limits().snapshot


def test_the_versions_to_remember_are_the_ones_just_verified() -> None:
    """Issue 14: after a check, the next check's floor is this check's versions, not the old ones."""
    world = World()
    world.image.versions = {"targets": 3, "snapshot": 4, "timestamp": 5}
    trusted, files = _trusted(world, RepositoryVersions(1, 1, 1, {"targets.json": 1}))
    trusted.update_timestamp(files["image/timestamp.json"])
    trusted.update_snapshot(files["image/snapshot.json"])
    trusted.update_targets(files["image/targets.json"])
    signed_under = {"timestamp": ((keyid(3),), 1), "snapshot": ((keyid(2),), 1)}  # the World's image keys
    assert trusted.versions() == RepositoryVersions(5, 4, 3, {"targets.json": 3}, signed_under)


def test_the_cache_of_verified_targets_stays_bounded_dropping_the_oldest() -> None:
    """Issue 14: the cache holds at most ``size`` entries; a new one evicts the oldest, not itself."""
    cache = VerifiedTargets(size=2)
    entries = [Targets(version=v) for v in (1, 2, 3)]
    for key, targets in zip(("a", "b", "c"), entries, strict=True):
        cache.put((key,), targets)
    assert [cache.get((key,)) for key in ("a", "b", "c")] == [None, entries[1], entries[2]]


def test_cached_targets_are_still_matched_against_the_snapshot_that_lists_them() -> None:
    """Issue 14: identical targets bytes skip the signature check, never the parent's version check."""
    world = World()
    cache = VerifiedTargets()
    first, files = _up_to_snapshot(world)
    first.cache = cache
    first.update_targets(files["image/targets.json"])
    world.image.snapshot_targets_version = 2  # the same targets bytes, now listed as version 2
    world.image.versions["snapshot"] = 2
    world.image.versions["timestamp"] = 2
    second, files = _up_to_snapshot(world)
    second.cache = cache
    with pytest.raises(MixAndMatchError) as raised:
        second.update_targets(files["image/targets.json"])
    assert str(raised.value) == "Image repository targets.json: version 1, the parent lists version 2"


# Each failure names the file, the versions or sizes involved, exactly: the message is what the vehicle
# reports to the Director as the attack it detected (``attacks_detected``), so "None" or a wrong file
# would mislead the fleet operator. Cases: (id, world edit, what the vehicle does, error, message).
Step = Callable[[TrustedRepository, dict[str, bytes]], object]


def _root_v2(**spec: object) -> Callable[[World], None]:
    def edit(world: World) -> None:
        world.image.add_root(RootSpec(keys=dict(world.image.keys, root=[6]), **spec))  # type: ignore[arg-type]
    return edit


def _timestamp_meta(**changes: object) -> Callable[[World], None]:
    def edit(world: World) -> None:
        world.image.hooks["timestamp"] = lambda signed: signed["meta"]["snapshot.json"].update(changes)
    return edit


def _through(step: str) -> Step:
    """Load the files in order up to (and including) ``step``."""
    def run(trusted: TrustedRepository, files: dict[str, bytes]) -> object:
        for name in ("timestamp", "snapshot", "targets")[: ("timestamp", "snapshot", "targets").index(step) + 1]:
            getattr(trusted, f"update_{name}")(files[f"image/{name}.json"])
        return None
    return run


def _delegated(role: str, delegator: str = "targets") -> Step:
    def run(trusted: TrustedRepository, files: dict[str, bytes]) -> object:
        _through("targets")(trusted, files)
        return trusted.update_delegated_targets(files.get(f"image/{role}.json", b"{}"), role, delegator)
    return run


def _two_delegations(world: World, keep: str | None) -> None:
    """Roles a and b, both in snapshot; top-level targets delegates ``keep`` only (None: none at all)."""
    for name in ("a", "b"):
        world.image.delegations[name] = Delegated(keys=[7], targets={})

    def edit(signed: dict[str, Any]) -> None:
        if keep is None:
            del signed["delegations"]
        else:
            signed["delegations"]["roles"] = [r for r in signed["delegations"]["roles"] if r["name"] == keep]
    world.image.hooks["targets"] = edit


EXPIRED = NOW - timedelta(days=1)
CASES: list[tuple[str, Callable[[World], None], Step, type[ClientError], str]] = [
    ("root-stated-version", _root_v2(sign_with=[0, 6], stated_version=3),
     lambda t, f: t.update_root(f["image/2.root.json"]), RootRotationError,
     "Image repository 2.root.json: states version 3, expected 2"),
    ("root-not-json", lambda w: None, lambda t, f: t.update_root(b"{"), MalformedMetadataError,
     "Image repository 2.root.json: not JSON: Expecting property name enclosed in double quotes: "
     "line 1 column 2 (char 1)"),
    ("root-without-old-keys", _root_v2(sign_with=[6]), lambda t, f: t.update_root(f["image/2.root.json"]),
     ThresholdError, "Image repository 2.root.json (keys of root 1): 0 valid signature(s), threshold 1"),
    ("root-without-own-keys", _root_v2(sign_with=[0]), lambda t, f: t.update_root(f["image/2.root.json"]),
     ThresholdError, "Image repository 2.root.json (its own keys): 0 valid signature(s), threshold 1"),
    ("snapshot-length", _timestamp_meta(length=1), _through("snapshot"), EndlessDataError, "{snapshot}"),
    ("snapshot-hash", _timestamp_meta(hashes={"sha256": "0" * 64}), _through("snapshot"), MixAndMatchError,
     "Image repository snapshot.json: sha256 differs from the one its parent lists"),
    ("snapshot-hash-algorithm", _timestamp_meta(hashes={"md5": "0" * 32}), _through("snapshot"), MixAndMatchError,
     "Image repository snapshot.json: unsupported hash algorithm 'md5'"),
    ("snapshot-version", _timestamp_meta(version=2), _through("snapshot"), MixAndMatchError,
     "Image repository snapshot.json: version 1, the parent lists version 2"),
    ("snapshot-signature", lambda w: w.image.sign_with.update(snapshot=[3]), _through("snapshot"), ThresholdError,
     "Image repository snapshot.json: 0 valid signature(s), threshold 1"),
    ("timestamp-signature", lambda w: w.image.sign_with.update(timestamp=[2]), _through("timestamp"), ThresholdError,
     "Image repository timestamp.json: 0 valid signature(s), threshold 1"),
    ("targets-version", lambda w: setattr(w.image, "snapshot_targets_version", 2), _through("targets"),
     MixAndMatchError, "Image repository targets.json: version 1, the parent lists version 2"),
    ("targets-signature", lambda w: w.image.sign_with.update(targets=[2]), _through("targets"), ThresholdError,
     "Image repository targets.json: 0 valid signature(s), threshold 1"),
    ("targets-expired", lambda w: w.image.expired.add("targets"), _through("targets"), ExpiredMetadataError,
     f"Image repository targets.json: version 1 expired {EXPIRED.replace(microsecond=0)}"),
    ("targets-not-in-snapshot", lambda w: None, _delegated("c"), MixAndMatchError,
     "Image repository c.json: not listed in snapshot version 1"),
    ("not-delegated-by-its-parent", lambda w: _two_delegations(w, "a"), _delegated("b"), VerificationError,
     "Image repository: targets does not delegate to b"),
    ("parent-delegates-nothing", lambda w: _two_delegations(w, None), _delegated("b"), VerificationError,
     "Image repository: targets does not delegate to b"),
    ("role-not-loaded", lambda w: None, lambda t, f: t.delegated("a"), VerificationError,
     "Image repository: a not loaded yet"),
]


@pytest.mark.parametrize(("edit", "step", "error", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_refusal_names_the_file_and_what_differs(
    edit: Callable[[World], None], step: Step, error: type[ClientError], message: str
) -> None:
    """Issue 14: the exact message of each refusal (mutants replacing it with None or a wrong file survived)."""
    world = World()
    edit(world)
    trusted, files = _trusted(world)
    with pytest.raises(error) as raised:
        step(trusted, files)
    assert type(raised.value) is error
    assert str(raised.value) == message.format(snapshot=f"Image repository snapshot.json: "
                                                        f"{len(files['image/snapshot.json'])} bytes, more than "
                                                        f"the 1 allowed")


ROLLBACKS = [
    ("timestamp", RepositoryVersions(timestamp=2),
     "Image repository timestamp.json: version 1 is older than trusted 2"),
    ("timestamp", RepositoryVersions(snapshot=2),
     "Image repository timestamp.json: lists snapshot 1, older than trusted 2"),
    ("snapshot", RepositoryVersions(snapshot_meta={"gone.json": 1}), "Image repository snapshot.json: no longer lists "
                                                                      "gone.json"),
    ("snapshot", RepositoryVersions(snapshot_meta={"targets.json": 2}),
     "Image repository snapshot.json: lists targets.json version 1, older than trusted 2"),
    ("targets", RepositoryVersions(targets=2), "Image repository targets.json: version 1 is older than trusted 2"),
]


@pytest.mark.parametrize(("step", "previous", "message"), ROLLBACKS)
def test_a_rollback_below_trusted_versions_names_both_versions(
    step: str, previous: RepositoryVersions, message: str
) -> None:
    """Issue 14: each rollback refusal says which version came and which one is trusted."""
    trusted, files = _trusted(World(), previous)
    with pytest.raises(RollbackError) as raised:
        _through(step)(trusted, files)
    assert str(raised.value) == message


def test_the_trust_anchor_is_checked_like_any_root_and_named_so() -> None:
    """Issue 14: a provisioned root that is not JSON, or not signed by its own keys, is refused by name."""
    with pytest.raises(MalformedMetadataError) as malformed:
        TrustedRepository("Director", b"{", NOW)
    assert str(malformed.value) == ("Director root: not JSON: Expecting property name enclosed in double quotes: "
                                    "line 1 column 2 (char 1)")
    world = World()
    world.image.roots[0].sign_with = [1]
    with pytest.raises(ThresholdError) as unsigned:
        _trusted(world)
    assert str(unsigned.value) == "Image repository 1.root.json: 0 valid signature(s), threshold 1"


def test_nothing_is_trusted_before_it_is_loaded() -> None:
    """Issue 14: asking for timestamp, snapshot or targets before they are verified is an error, not None."""
    trusted, _ = _trusted(World())
    for role in ("timestamp", "snapshot", "targets"):
        with pytest.raises(VerificationError) as raised:
            getattr(trusted, role)
        assert str(raised.value) == f"Image repository: {role} not loaded yet"


def test_expiry_is_judged_at_the_checks_time_not_the_machines_clock() -> None:
    """Issue 14: ``now`` is the caller's (the vehicle's corrected clock), fixed for the whole check.

    This root expires the day after the check's time and long before the machine's clock: it is valid.
    """
    world = World()
    world.image.hooks["root"] = lambda signed: signed.update(expires="2026-06-02T00:00:00Z")
    trusted, _ = _trusted(world)
    trusted.finish_root()
    world.image.roots[0].expired = True
    world.image.hooks.clear()
    trusted, _ = _trusted(world)
    with pytest.raises(ExpiredMetadataError) as raised:
        trusted.finish_root()
    assert str(raised.value) == f"Image repository root version 1 expired {EXPIRED.replace(microsecond=0)}"


# -- matching.py: the rules between the two repositories and the vehicle ------------------------------
IMAGE = b"firmware 1.0 " * 40


def _director_targets(*targets: tuple[str, dict[str, Any]], vin: object = "VIN1", **extra: Any) -> Targets:
    """Director targets metadata whose targets carry ``custom`` (the image is always IMAGE)."""
    files = {path: TargetFile.from_data(path, IMAGE, ["sha256"]) for path, _ in targets}
    for path, custom in targets:
        files[path].unrecognized_fields["custom"] = custom
    custom_vin = {} if vin is None else {"custom": {"vin": vin}}
    return Targets(targets=files, unrecognized_fields=custom_vin, **extra)


def _without_custom(targets: Targets) -> Targets:
    for target in targets.targets.values():
        del target.unrecognized_fields["custom"]
    return targets


def _without_sha256(targets: Targets) -> Targets:
    for target in targets.targets.values():
        target.hashes = {"sha512": hashlib.sha512(IMAGE).hexdigest()}
    return targets


def _ecu(serial: str = "ecu-1", hardware: str = "hw-1", counter: object = 3, **more: Any) -> dict[str, Any]:
    return {"ecu_serial": serial, "hardware_id": hardware, "release_counter": counter, **more}


def _assignment(**changes: Any) -> Assignment:
    fields: dict[str, Any] = {"ecu_serial": "ecu-1", "hardware_id": "hw-1", "filepath": "fw.bin",
                              "length": len(IMAGE), "hashes": {"sha256": hashlib.sha256(IMAGE).hexdigest()},
                              "release_counter": 3, "delta": None}
    return Assignment(**{**fields, **changes})


def _image_target(custom: object = None, data: bytes = IMAGE) -> TargetFile:
    target = TargetFile.from_data("fw.bin", data, ["sha256"])
    target.unrecognized_fields["custom"] = {"hardware_id": "hw-1", "release_counter": 3} if custom is None else custom
    return target


ECUS = {"ecu-1": "hw-1", "ecu-2": "hw-2"}
MATCHING: list[tuple[str, Callable[[], object], type[ClientError], str]] = [
    ("vin-missing", lambda: check_vehicle(_director_targets(vin=None), "VIN1"), VehicleMismatchError,
     "Director targets.json: names no vehicle (custom.vin); refusing metadata that could be replayed"),
    ("vin-not-text", lambda: check_vehicle(_director_targets(vin=7), "VIN1", "T"), VehicleMismatchError,
     "T: names no vehicle (custom.vin); refusing metadata that could be replayed"),
    ("vin-other", lambda: check_vehicle(_director_targets(vin="VIN2"), "VIN1"), VehicleMismatchError,
     "Director targets.json: signed for vehicle VIN2, this vehicle is VIN1 (replay?)"),
    ("delegations", lambda: director_assignments(_director_targets(delegations=Delegations({}, {})), ECUS),
     DirectorDelegationError, "Director targets metadata has delegations; Uptane 5.4.4.6 step 6 forbids them"),
    ("custom-not-object", lambda: director_assignments(_director_targets(("a", [])), ECUS),  # type: ignore[arg-type]
     MalformedMetadataError, "target a: 'custom' is not an object"),
    ("serial-missing", lambda: director_assignments(_director_targets(("a", {"hardware_id": "hw-1"})), ECUS),
     MalformedMetadataError, "Director target a: custom field ecu_serial is missing or not a string"),
    ("custom-missing", lambda: director_assignments(_without_custom(_director_targets(("a", _ecu()))), ECUS),
     MalformedMetadataError, "Director target a: custom field ecu_serial is missing or not a string"),
    ("hardware-missing", lambda: director_assignments(_director_targets(("a", {"ecu_serial": "ecu-1"})), ECUS),
     MalformedMetadataError, "Director target a: custom field hardware_id is missing or not a string"),
    ("serial-empty", lambda: director_assignments(_director_targets(("a", _ecu(serial=""))), ECUS),
     MalformedMetadataError, "Director target a: custom field ecu_serial is missing or not a string"),
    ("ecu-twice", lambda: director_assignments(_director_targets(("a", _ecu()), ("b", _ecu())), ECUS),
     DuplicateEcuTargetError, "Director target b: ECU ecu-1 already has target a"),
    ("ecu-unknown", lambda: director_assignments(_director_targets(("a", _ecu(serial="ecu-9"))), ECUS),
     EcuMismatchError, "Director target a: ECU ecu-9 is not in this vehicle"),
    ("hardware-other", lambda: director_assignments(_director_targets(("a", _ecu(hardware="hw-2"))), ECUS),
     HardwareMismatchError, "Director target a: hardware id hw-2, ECU ecu-1 is hw-1"),
    ("no-sha256", lambda: director_assignments(_without_sha256(_director_targets(("a", _ecu()))), ECUS),
     MalformedMetadataError, "Director target a: no sha256 hash"),
    ("counter-negative", lambda: director_assignments(_director_targets(("a", _ecu(counter=-1))), ECUS),
     MalformedMetadataError, "Director target a: release_counter must be a non-negative integer, got -1"),
    ("counter-bool", lambda: director_assignments(_director_targets(("a", _ecu(counter=True))), ECUS),
     MalformedMetadataError, "Director target a: release_counter must be a non-negative integer, got True"),
    ("counter-text", lambda: director_assignments(_director_targets(("a", _ecu(counter="3"))), ECUS),
     MalformedMetadataError, "Director target a: release_counter must be a non-negative integer, got '3'"),
    ("delta-not-object", lambda: director_assignments(_director_targets(("a", _ecu(delta=[]))), ECUS),
     MalformedMetadataError, "Director target a: 'delta' is not an object"),
    ("delta-no-from", lambda: director_assignments(_director_targets(
        ("a", _ecu(delta={"algorithm": "x", "sha256": "s", "length": 1}))), ECUS),
     MalformedMetadataError, "Director target a: custom field delta_from is missing or not a string"),
    ("delta-no-algorithm", lambda: director_assignments(_director_targets(
        ("a", _ecu(delta_from="f", delta={"sha256": "s", "length": 1}))), ECUS),
     MalformedMetadataError, "Director target a delta: custom field algorithm is missing or not a string"),
    ("delta-no-sha256", lambda: director_assignments(_director_targets(
        ("a", _ecu(delta_from="f", delta={"algorithm": "x", "length": 1}))), ECUS),
     MalformedMetadataError, "Director target a delta: custom field sha256 is missing or not a string"),
    ("delta-bad-length", lambda: director_assignments(_director_targets(
        ("a", _ecu(delta_from="f", delta={"algorithm": "x", "sha256": "s", "length": -2}))), ECUS),
     MalformedMetadataError, "Director target a delta: length must be a non-negative integer, got -2"),
    ("image-missing", lambda: match_image_target(_assignment(), None), TargetMismatchError,
     "target fw.bin for ECU ecu-1: the Image repository does not sign this image"),
    ("image-length", lambda: match_image_target(_assignment(), _image_target(data=IMAGE + b"!")),
     TargetMismatchError, f"target fw.bin for ECU ecu-1: length {len(IMAGE)} (Director) ≠ {len(IMAGE) + 1} "
                          "(Image repository)"),
    ("image-hashes", lambda: match_image_target(_assignment(), _image_target(data=IMAGE[::-1])),
     TargetMismatchError, "target fw.bin for ECU ecu-1: hashes differ between the Director and the Image repository"),
    ("image-hardware", lambda: match_image_target(_assignment(), _image_target({"release_counter": 3})),
     TargetMismatchError, "target fw.bin for ECU ecu-1: hardware id hw-1 (Director) ≠ None (Image repository)"),
    ("image-counter-bad", lambda: match_image_target(_assignment(), _image_target(
        {"hardware_id": "hw-1", "release_counter": "x"})), MalformedMetadataError,
     "Image repository target fw.bin: release_counter must be a non-negative integer, got 'x'"),
    ("image-counter", lambda: match_image_target(_assignment(), _image_target(
        {"hardware_id": "hw-1", "release_counter": 4})), TargetMismatchError,
     "target fw.bin for ECU ecu-1: release counter 3 (Director) ≠ 4 (Image repository)"),
    ("counter-lower", lambda: check_release_counter(_assignment(), 4), RollbackError,
     "ECU ecu-1: release counter 3 is lower than the installed 4 (anti-rollback)"),
    ("image-short", lambda: check_image(_assignment(), IMAGE[:-1], "image fw.bin"), ImageVerificationError,
     f"image fw.bin: {len(IMAGE) - 1} bytes, the signed length is {len(IMAGE)} (truncated?)"),
    ("image-algorithm", lambda: check_image(_assignment(hashes={"md5": "0"}), IMAGE, "image fw.bin"),
     ImageVerificationError, "image fw.bin: unsupported hash algorithm 'md5'"),
    ("image-hash", lambda: check_image(_assignment(), IMAGE[::-1], "image fw.bin"), ImageVerificationError,
     "image fw.bin: sha256 differs from the signed one"),
]


@pytest.mark.parametrize(("call", "error", "message"), [c[1:] for c in MATCHING], ids=[c[0] for c in MATCHING])
def test_each_matching_rule_refuses_with_its_own_message(
    call: Callable[[], object], error: type[ClientError], message: str
) -> None:
    """Issue 14: every rule of matching.py, one failing input each, with the exact error and message."""
    with pytest.raises(error) as raised:
        call()
    assert type(raised.value) is error
    assert str(raised.value) == message


def test_matching_accepts_what_both_repositories_agree_on() -> None:
    """Issue 14: the success path reads every field (a mutant dropping one is caught here)."""
    delta = {"algorithm": "bsdiff4", "sha256": "d" * 64, "length": 12}
    targets = _director_targets(("fw.bin", _ecu(delta_from="f" * 64, delta=delta)), ("other", _ecu(serial="ecu-2",
                                                                                                   hardware="hw-2")))
    check_vehicle(targets, "VIN1")
    assert director_assignments(targets, ECUS, only="ecu-1") == {
        "ecu-1": _assignment(delta=DeltaOffer(from_sha256="f" * 64, algorithm="bsdiff4", sha256="d" * 64, length=12))}
    assert set(director_assignments(targets, ECUS)) == {"ecu-1", "ecu-2"}
    assert set(director_assignments(targets, ECUS, only="ecu-2")) == {"ecu-2"}  # after another ECU's target
    assert director_assignments(_director_targets(("a", {"ecu_serial": "ecu-1", "hardware_id": "hw-1"})),
                                ECUS)["ecu-1"].release_counter == 0  # no counter: 0, the lowest
    match_image_target(_assignment(), _image_target())
    check_release_counter(_assignment(), 3)  # the same counter again is no rollback
    check_release_counter(_assignment(), None)
    check_image(_assignment(), IMAGE, "image fw.bin")


# -- secure_time.py -------------------------------------------------------------------------------
def _timestamp(custom: object) -> Timestamp:
    timestamp = Timestamp(snapshot_meta=MetaFile(1))
    if custom is not None:
        timestamp.unrecognized_fields["custom"] = custom
    return timestamp


def test_the_directors_time_counts_only_when_it_answers_our_nonce() -> None:
    """Issue 14: a signed time is trusted only as the answer to the nonce this vehicle sent last."""
    answer = {"nonce": "n1", "time": "2026-06-01T12:30:00Z"}
    assert signed_time(_timestamp(answer), "n1") == datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    assert signed_time(_timestamp(answer), "n2") is None  # someone else's nonce (or a replay)
    assert signed_time(_timestamp(answer), "") is None  # no nonce sent: nothing can answer it
    assert signed_time(_timestamp({"time": "2026-06-01T12:30:00Z"}), "n1") is None
    assert signed_time(_timestamp(["n1"]), "n1") is None
    assert signed_time(_timestamp(None), "n1") is None
    with pytest.raises(MalformedMetadataError) as raised:
        signed_time(_timestamp({"nonce": "n1", "time": "2026-06-01 12:30"}), "n1")
    assert str(raised.value) == ("Director timestamp.json: custom time '2026-06-01 12:30' is not "
                                 "YYYY-MM-DDTHH:MM:SSZ")


def test_the_measured_offset_only_ever_moves_the_clock_forward() -> None:
    """Issue 14: a vehicle clock behind the Director's is moved forward; one ahead is never moved back."""
    assert corrected(NOW, timedelta(hours=2)) == NOW + timedelta(hours=2)
    assert corrected(NOW, timedelta(hours=-2)) == NOW
    assert corrected(NOW, timedelta(0)) == NOW


# -- signatures.py: one file on its own ------------------------------------------------------------
def _root_json() -> dict[str, Any]:
    """A well-formed (signed) Image repository root from the World, as a JSON object to edit."""
    parsed: dict[str, Any] = json.loads(World().publish().files["image/1.root.json"])
    return parsed


def _edited_root(edit: Callable[[dict[str, Any]], None]) -> bytes:
    parsed = _root_json()
    edit(parsed["signed"])
    return json.dumps(parsed).encode()


def _with_delegation(keyid: str, listed: bool) -> bytes:
    """Targets metadata delegating to role d with key ``keyid`` (listed under that id or not)."""
    key = KEYS[7].public_key.to_dict()
    signed = {"_type": "targets", "spec_version": "1.0.31", "version": 1, "expires": "2030-01-01T00:00:00Z",
              "targets": {}, "delegations": {"keys": {keyid: key} if listed else {},
                                             "roles": [{"name": "d", "keyids": [keyid], "threshold": 1,
                                                        "paths": ["*"], "terminating": False}]}}
    return json.dumps({"signed": signed, "signatures": []}).encode()


def _signatures(*keyids: str) -> bytes:
    return json.dumps({"signed": {"_type": "root"}, "signatures": [{"keyid": k, "sig": "00"} for k in keyids]}).encode()


GOOD_ROOT = World().publish().files["image/1.root.json"]
LOADS: list[tuple[str, bytes, type[ClientError], str]] = [
    ("endless", GOOD_ROOT + b" " * 10, EndlessDataError, f"R: {len(GOOD_ROOT) + 10} bytes, more than the "
                                                           f"{len(GOOD_ROOT) + 9} allowed"),
    ("not-json", b"{", MalformedMetadataError,
     "R: not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ("float", b'{"signed": {"version": 1.5}}', MalformedMetadataError,
     "R: not JSON: number 1.5 is not an integer (canonical JSON has no floats)"),
    ("nan", b'{"signed": {"version": NaN}}', MalformedMetadataError,
     "R: not JSON: number NaN is not an integer (canonical JSON has no floats)"),
    ("not-an-object", b"[]", MalformedMetadataError, "R: not TUF metadata (no 'signed' object)"),
    ("signed-not-an-object", b'{"signed": 1, "signatures": []}', MalformedMetadataError,
     "R: not TUF metadata (no 'signed' object)"),
    ("signatures-missing", b'{"signed": {}}', MalformedMetadataError, "R: 'signatures' is not a list of objects"),
    ("signatures-not-objects", b'{"signed": {}, "signatures": [1]}', MalformedMetadataError,
     "R: 'signatures' is not a list of objects"),
    ("type", b'{"signed": {"_type": "targets"}, "signatures": []}', RoleTypeMismatchError,
     "R: expected root metadata, found _type 'targets'"),
    ("type-missing", b'{"signed": {}, "signatures": []}', RoleTypeMismatchError,
     "R: expected root metadata, found _type None"),
    ("signed-twice", _signatures("a" * 64, "b" * 64, "a" * 64), NonUniqueSignaturesError,
     "R: key aaaaaaaaaaaa… signed more than once"),
    ("threshold-zero", _edited_root(lambda s: s["roles"]["timestamp"].update(threshold=0)), IllegalThresholdError,
     "R: role timestamp has threshold 0"),
    ("delegation-threshold-zero", _with_delegation(keyid(7), listed=True).replace(b'"threshold": 1', b'"threshold": 0'),
     IllegalThresholdError, "R: role d has threshold 0"),
    ("invalid", b'{"signed": {"_type": "root"}, "signatures": []}', MalformedMetadataError,
     "R: invalid root metadata: 'version'"),
    ("root-key-id", _edited_root(lambda s: s["keys"].update({"0" * 64: s["keys"].pop(keyid(0))})
                                 or s["roles"]["root"].update(keyids=["0" * 64])),
     BadKeyIdError, "R: key id 000000000000… is not the hash of its key"),
    ("root-role-unlisted-key", _edited_root(lambda s: s["roles"]["targets"].update(keyids=["1" * 64])),
     BadKeyIdError, "R: role targets names key 111111111111…, which is not listed"),
    ("delegation-key-id", _with_delegation("2" * 64, listed=True), BadKeyIdError,
     "R: key id 222222222222… is not the hash of its key"),
    ("delegation-unlisted-key", _with_delegation(keyid(7), listed=False), BadKeyIdError,
     f"R: role d names key {keyid(7)[:12]}…, which is not listed"),
]


@pytest.mark.parametrize(("data", "error", "message"), [c[1:] for c in LOADS], ids=[c[0] for c in LOADS])
def test_each_structural_check_of_one_file_refuses_with_its_own_message(
    data: bytes, error: type[ClientError], message: str
) -> None:
    """Issue 14: every check ``load`` makes before a signature is looked at, exact error and message."""
    role = "targets" if b'"delegations"' in data else "root"
    with pytest.raises(error) as raised:
        load(data, role, "R", len(GOOD_ROOT) + 9)
    assert type(raised.value) is error
    assert str(raised.value) == message.replace("root metadata", f"{role} metadata")


def test_a_well_formed_file_loads_with_the_payload_its_signatures_cover() -> None:
    """Issue 14: the payload is the canonical form of ``signed``, escapes included (the slow path)."""
    loaded = load(GOOD_ROOT, "root", "R", len(GOOD_ROOT))
    assert loaded.payload == canonical(json.loads(GOOD_ROOT)["signed"])
    unicode = json.dumps(json.loads(_edited_root(lambda s: s.update(note="Prüfstand Ω"))), ensure_ascii=False).encode()
    assert b"\\" not in unicode  # the fast path: UTF-8 as is, never \u escapes (securesystemslib's canonical form)
    assert load(unicode, "root", "R", len(unicode)).payload == canonical(json.loads(unicode)["signed"])
    assert "Prüfstand Ω".encode() in load(unicode, "root", "R", len(unicode)).payload
    escaped = _edited_root(lambda s: s.update(note='a "quoted" \\ line'))
    expected = encode_canonical(json.loads(escaped)["signed"])
    assert expected is not None
    assert load(escaped, "root", "R", len(escaped)).payload == expected.encode()
    assert load(_with_delegation(keyid(7), listed=True), "targets", "T", 10_000).metadata.signed.delegations


def test_signatures_that_do_not_verify_are_told_apart_from_missing_ones() -> None:
    """Issue 14: an authorised key's bad signature is a BadSignatureError that counts it; none is a ThresholdError."""
    loaded = load(GOOD_ROOT, "root", "R", len(GOOD_ROOT))
    root: Root = loaded.metadata.signed
    verify_signatures(root.keys, root.roles["root"], loaded, "R")
    tampered = Loaded(loaded.metadata, loaded.payload + b" ")
    with pytest.raises(BadSignatureError) as bad:
        verify_signatures(root.keys, root.roles["root"], tampered, "R")
    assert str(bad.value) == "R: 0 valid signature(s), threshold 1 (1 signature(s) by authorised keys do not verify)"
    with pytest.raises(ThresholdError) as missing:
        verify_signatures(root.keys, root.roles["targets"], loaded, "R")
    assert type(missing.value) is ThresholdError
    assert str(missing.value) == "R: 0 valid signature(s), threshold 1"


def test_keys_other_than_ed25519_are_verified_by_securesystemslib() -> None:
    """Issue 14: the non-ed25519 path (and an unusable ed25519 key) accepts good and refuses bad signatures."""
    signer = CryptoSigner.generate_ecdsa()
    key = signer.public_key
    role = Role([key.keyid], 1)
    payload = b'{"_type":"targets"}'
    metadata = Metadata.from_dict({"signed": {"_type": "targets", "spec_version": "1.0.31", "version": 1,
                                              "expires": "2030-01-01T00:00:00Z", "targets": {}}, "signatures": []})
    metadata.signatures[key.keyid] = signer.sign(payload)
    verify_signatures({key.keyid: key}, role, Loaded(metadata, payload), "E")
    with pytest.raises(BadSignatureError):
        verify_signatures({key.keyid: key}, role, Loaded(metadata, payload + b" "), "E")
    broken = SSlibKey(key.keyid, "ed25519", "ed25519", {"public": "not hex"})
    with pytest.raises(BadSignatureError):
        verify_signatures({key.keyid: broken}, role, Loaded(metadata, payload), "E")


def test_only_the_listed_hash_algorithms_are_computed() -> None:
    """Issue 14: sha256/384/512 are computed; anything else is refused by name, never guessed at."""
    for algorithm in ("sha256", "sha384", "sha512"):
        assert digest(algorithm, b"x") == hashlib.new(algorithm, b"x").hexdigest()
    with pytest.raises(ValueError, match=r"^unsupported hash algorithm 'sha1'$"):
        digest("sha1", b"x")


# -- primary.py and secondary.py: the vehicle's own checks -----------------------------------------
def test_a_clock_turned_back_within_the_tolerance_is_accepted_beyond_it_refused(tmp_path: Path) -> None:
    """Issue 14: the lower bound on time allows exactly ``clock_tolerance`` (5 minutes) of drift."""
    moments = [NOW]
    world = World()
    client = world.client(tmp_path, lambda: moments[-1])
    client.update_check()
    moments.append(NOW - timedelta(minutes=5))  # exactly the tolerance: accepted
    assert client.update_check().status == "up-to-date"
    moments.append(NOW - timedelta(minutes=5, seconds=1))
    with pytest.raises(ClockSkewError) as raised:
        client.update_check()
    assert str(raised.value) == ("the clock reads 2026-06-01T11:54:59Z, before the last verified check at "
                                 "2026-06-01T12:00:00Z: refusing to judge expiry with it")


def test_an_image_over_the_image_limit_is_not_downloaded(tmp_path: Path) -> None:
    """Issue 14: the Director's stated length is checked against the limit before any byte is fetched."""
    world = World()
    client = world.client(tmp_path)
    client.limits = Limits(image=len(TARGET_CONTENT) - 1)
    with pytest.raises(EndlessDataError) as raised:
        client.update_check()
    assert str(raised.value) == f"image {TARGET_NAME}: {len(TARGET_CONTENT)} bytes, over the image limit"
    client.limits = Limits(image=len(TARGET_CONTENT))  # exactly the limit is allowed
    assert client.update_check().status == "installed"


def _partial(world: World, folder: Path, serial: str = ECU_SERIAL) -> tuple[PartialVerifier, bytes]:
    """A provisioned partial-verification Secondary and the Director targets the primary forwards."""
    files = world.publish().files
    verifier = PartialVerifier(serial, HARDWARE_ID, folder, vin=VIN)
    verifier.provision(files[f"director/{VIN}/1.root.json"])
    return verifier, files[f"director/{VIN}/targets.json"]


def test_a_partial_verification_secondary_keeps_its_own_state(tmp_path: Path) -> None:
    """Issue 14: its root version, its targets version and the latest time it verified at, exactly."""
    verifier = PartialVerifier(ECU_SERIAL, HARDWARE_ID, tmp_path, vin=VIN)
    assert verifier.root_version() == 0
    with pytest.raises(InstallError) as unprovisioned:
        verifier.verify(b"{}", NOW, TARGET_CONTENT, None)
    assert str(unprovisioned.value) == f"ECU {ECU_SERIAL}: no Director root provisioned"
    world = World()
    world.director.versions["targets"] = 4
    verifier, targets = _partial(world, tmp_path)
    assert verifier.root_version() == 1
    assignment = verifier.verify(targets, NOW, TARGET_CONTENT, None)
    assert (assignment.ecu_serial, assignment.filepath, assignment.length) == (ECU_SERIAL, TARGET_NAME,
                                                                               len(TARGET_CONTENT))
    state = json.loads((tmp_path / "partial-verification.json").read_bytes())
    assert state == {"targets_version": 4, "last_time": NOW.isoformat(), "attacks_detected": ""}
    verifier.verify(targets, NOW - timedelta(minutes=5), TARGET_CONTENT, None)  # within the tolerance
    assert json.loads((tmp_path / "partial-verification.json").read_bytes())["last_time"] == NOW.isoformat()
    with pytest.raises(ClockSkewError) as skewed:
        verifier.verify(targets, NOW - timedelta(minutes=5, seconds=1), TARGET_CONTENT, None)
    assert str(skewed.value) == (f"ECU {ECU_SERIAL}: the time 2026-06-01T11:54:59Z is before the last verified "
                                 f"{NOW.isoformat()}: refusing to judge expiry with it")


SECONDARY: list[tuple[str, Callable[[World], None], str, type[ClientError], str]] = [
    ("signature", lambda w: w.director.sign_with.update(targets=[4]), ECU_SERIAL, ThresholdError,
     "0 valid signature(s), threshold 1"),
    ("expired", lambda w: w.director.expired.add("targets"), ECU_SERIAL, ExpiredMetadataError,
     f"version 1 expired {EXPIRED.replace(microsecond=0)}"),
    ("no-target-for-this-ecu", lambda w: None, "ecu-other", EcuMismatchError, "no target for this ECU"),
]


@pytest.mark.parametrize(("edit", "serial", "error", "message"), [c[1:] for c in SECONDARY],
                         ids=[c[0] for c in SECONDARY])
def test_a_partial_verification_secondary_names_itself_in_each_refusal(
    edit: Callable[[World], None], serial: str, error: type[ClientError], message: str, tmp_path: Path
) -> None:
    """Issue 14: the Secondary's refusals, each with the ECU and the file it refused."""
    world = World()
    edit(world)
    verifier, targets = _partial(world, tmp_path, serial)
    with pytest.raises(error) as raised:
        verifier.verify(targets, NOW, TARGET_CONTENT, None)
    assert type(raised.value) is error
    assert str(raised.value) == f"ECU {serial}: Director targets.json: {message}"


def test_a_partial_verification_secondary_refuses_older_targets_by_version(tmp_path: Path) -> None:
    """Issue 14: the rollback refusal names the version forwarded and the version trusted."""
    world = World()
    verifier, old = _partial(world, tmp_path)
    world.director.versions["targets"] = 2
    verifier.verify(world.publish().files[f"director/{VIN}/targets.json"], NOW, TARGET_CONTENT, None)
    with pytest.raises(RollbackError) as raised:
        verifier.verify(old, NOW, TARGET_CONTENT, None)
    assert str(raised.value) == f"ECU {ECU_SERIAL}: Director targets.json: version 1 is older than trusted 2"


def test_ed25519_signatures_are_verified_by_pynacl_without_securesystemslib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: ed25519 keys take the PyNaCl path (the Director and client budgets rest on it).

    The two paths give the same answers, so only this test tells a lost fast path from a working one.
    """
    def refuse(*_: object) -> None:
        raise UnverifiedSignatureError("securesystemslib must not be asked for an ed25519 key")

    monkeypatch.setattr(SSlibKey, "verify_signature", refuse)
    loaded = load(GOOD_ROOT, "root", "R", len(GOOD_ROOT))
    root: Root = loaded.metadata.signed
    verify_signatures(root.keys, root.roles["root"], loaded, "R")


def test_a_threshold_of_zero_is_refused_whatever_else_the_file_holds() -> None:
    """Issue 14: a root carrying a stray ``delegations`` list still has its own roles' thresholds checked,
    and a role that is not an object is malformed metadata, not a crash."""
    stray = _edited_root(lambda s: s.update(delegations={"roles": []}) or s["roles"]["root"].update(threshold=0))
    with pytest.raises(IllegalThresholdError, match=r"^R: role root has threshold 0$"):
        load(stray, "root", "R", len(stray))
    broken = _edited_root(lambda s: s["roles"].update(root=5))
    with pytest.raises(MalformedMetadataError):
        load(broken, "root", "R", len(broken))


def test_a_threshold_counts_every_authorised_key_that_signed() -> None:
    """Issue 14: a key without a signature is skipped, not the end of the count; bad ones are all counted."""
    loaded = load(GOOD_ROOT, "root", "R", len(GOOD_ROOT))
    root: Root = loaded.metadata.signed
    signer = keyid(0)
    keys = dict(root.keys, **{keyid(6): SSlibKey.from_dict(keyid(6), KEYS[6].public_key.to_dict())})
    verify_signatures(keys, Role([keyid(6), signer], 1), loaded, "R")  # the first key did not sign
    metadata = Metadata.from_bytes(GOOD_ROOT)
    metadata.sign(KEYS[6], append=True)
    two = Loaded(metadata, loaded.payload + b" ")  # both signatures now cover other bytes
    with pytest.raises(BadSignatureError) as raised:
        verify_signatures(keys, Role([keyid(6), signer], 1), two, "R")
    assert str(raised.value) == "R: 0 valid signature(s), threshold 1 (2 signature(s) by authorised keys do not verify)"
