"""The 86 Uptane cases of the public tuf-test-vectors list, rewritten as our own case table.

Each case names the vector (advancedtelematic/tuf-test-vectors, ``tuf_vectors/uptane.py``, MIT),
the error code that list expects, how we change a correct two-repository world to produce it,
and the error class our client must raise (``None``: the update must succeed). Steps before the
last must succeed; the expectation is for the last one. Where our class is not the direct
translation of the vector's code, ``note`` says why. The world itself is ``uptane_world.py``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from evplatform.ota.client import errors as e
from ota.uptane_world import (
    ECU_SERIAL,
    HARDWARE_ID,
    TARGET_CONTENT,
    TARGET_NAME,
    Delegated,
    Repository,
    RootSpec,
    World,
    director_custom,
    image_custom,
    target,
)

Step = Callable[[World], None]

#: Default translation of the vectors' error codes into our classes.
VECTOR_ERRORS: dict[str, type[e.ClientError]] = {
    "IllegalThreshold": e.IllegalThresholdError,
    "ExpiredMetadata": e.ExpiredMetadataError,
    "TargetMismatch": e.TargetMismatchError,
    "UnmetThreshold": e.ThresholdError,
    "NonUniqueSignatures": e.NonUniqueSignaturesError,
    "BadKeyId": e.BadKeyIdError,
    "OversizedTarget": e.EndlessDataError,
    "RootRotationError": e.RootRotationError,
    "VersionMismatch": e.MixAndMatchError,
    "BadHardwareId": e.HardwareMismatchError,
    "BadEcuId": e.EcuMismatchError,
    "DelegationMissing": e.NotFoundError,
    "SecurityException": e.RoleTypeMismatchError,
    "DirectorDelegation": e.DirectorDelegationError,
    "DirectorRepeatedEcuId": e.DuplicateEcuTargetError,
    "MetadataFetchFailure": e.EndlessDataError,
}


@dataclass(frozen=True)
class Case:
    name: str
    vector_error: str | None  # the list's code ("" part before "::"), None for success
    steps: tuple[Step, ...]
    override: type[e.ClientError] | None = None
    note: str = ""

    @property
    def expected(self) -> type[e.ClientError] | None:
        if self.override is not None:
            return self.override
        return None if self.vector_error is None else VECTOR_ERRORS[self.vector_error]


def nothing(_: World) -> None:
    """The correct world, unchanged."""


def repo(world: World, which: str) -> Repository:
    return world.director if which == "director" else world.image


# -- mutations, each a small function of the world ------------------------------------------------
def threshold(which: str, role: str, value: int) -> Step:
    return lambda w: repo(w, which).roots[0].thresholds.__setitem__(role, value)


def expired(which: str, role: str) -> Step:
    def step(w: World) -> None:
        if role == "root":
            repo(w, which).roots[0].expired = True
        else:
            repo(w, which).expired.add(role)
    return step


def alter_target(which: str, alteration: str) -> Step:
    def step(w: World) -> None:
        if which in ("director", "both"):
            w.director.targets[TARGET_NAME] = target(TARGET_CONTENT, director_custom(), alteration)
        if which in ("image", "both"):
            w.image.targets[TARGET_NAME] = target(TARGET_CONTENT, image_custom(), alteration)
    return step


def role_keys(which: str, role: str, keys: list[int], sign_with: list[int]) -> Step:
    """Give ``role`` the keys ``keys`` (threshold = their number) but sign with ``sign_with``."""
    def step(w: World) -> None:
        r = repo(w, which)
        r.roots[0].keys[role] = keys
        if role == "root":
            r.roots[0].sign_with = sign_with
        else:
            r.sign_with[role] = sign_with
    return step


def signed_by(which: str, role: str, sign_with: list[int]) -> Step:
    def step(w: World) -> None:
        r = repo(w, which)
        if role == "root":
            r.roots[0].sign_with = sign_with
        else:
            r.sign_with[role] = sign_with
    return step


def bad_key_id(which: str, index: int) -> Step:
    return lambda w: repo(w, which).roots[0].bad_key_ids.append(index)


def wrong_type(which: str, role: str) -> Step:
    def step(w: World) -> None:
        if role == "root":
            repo(w, which).roots[0].type = "invalidrole"
        else:
            repo(w, which).types[role] = "invalidrole"
    return step


def rotate(which: str, *specs: tuple[list[int], list[int], int | None]) -> Step:
    """Add root versions: (new root keys, signing keys, stated version or None)."""
    def step(w: World) -> None:
        r = repo(w, which)
        for keys, sign_with, stated in specs:
            new_keys = {**r.keys, "root": keys}
            r.add_root(RootSpec(new_keys, sign_with=sign_with, stated_version=stated))
    return step


def delegate(
    top_level: bool = False,
    name: str = "foo",
    keys: tuple[int, ...] = (6,),
    targets: dict[str, dict[str, object]] | None = None,
    **options: object,
) -> Step:
    """An Image repository delegation of ``file.txt``; the top level keeps it only if ``top_level``."""
    def step(w: World) -> None:
        if not top_level:
            w.image.targets.clear()
        signed = targets if targets is not None else {TARGET_NAME: target(TARGET_CONTENT, image_custom())}
        w.image.delegations[name] = Delegated(list(keys), copy.deepcopy(signed), **options)  # type: ignore[arg-type]
    return step


def changed_while_version_same_1(w: World) -> None:
    w.image.snapshot_hashes = True


def changed_while_version_same_2(w: World) -> None:
    w.image.roots[0] = RootSpec({**w.image.keys, "root": [6]}, sign_with=[0, 6])
    w.set_target("file01.txt", b"some foobar content", director=False)
    w.director.targets = {"file01.txt": target(b"some foobar content", director_custom())}
    w.director.versions["targets"] = 2


def director_delegates(w: World) -> None:
    signed = {TARGET_NAME: target(TARGET_CONTENT, director_custom())}
    w.director.delegations["foo"] = Delegated(keys=[6], targets=signed)


def same_ecu_twice(w: World) -> None:
    w.director.targets["alt.txt"] = target(b"something else", director_custom(ECU_SERIAL, HARDWARE_ID))


def too_large(which: str) -> Step:
    return lambda w: setattr(repo(w, which), "extra_targets", 1024 * 30)


def snapshot_targets_version(version: int) -> Step:
    return lambda w: setattr(w.image, "snapshot_targets_version", version)


ROLES4 = ("root", "targets", "snapshot", "timestamp")
SIGNING = {"image": {"root": 0, "targets": 1, "snapshot": 2, "timestamp": 3}, "director": {"root": 4, "targets": 5}}


def _per_role_cases() -> list[Case]:
    """The families the list repeats for each repository and role."""
    cases: list[Case] = []
    for which, prefix in (("director", "director"), ("image", "image_repo")):
        roles = ("root", "targets") if which == "director" else ROLES4
        for role in roles:
            cases.append(Case(f"{prefix}_{role}_zero_threshold", "IllegalThreshold", (threshold(which, role, 0),)))
        for role in roles:
            cases.append(Case(f"{prefix}_{role}_expired", "ExpiredMetadata", (expired(which, role),)))
        for role in roles:
            own = SIGNING[which][role]
            step = role_keys(which, role, [own, 6], [own])
            if which == "director" and role == "root":  # the list uses keys 4 and 5 here
                step = role_keys(which, role, [4, 5], [4])
            cases.append(Case(f"{prefix}_{role}_unmet_threshold", "UnmetThreshold", (step,)))
        for role in roles:
            own = SIGNING[which][role]
            cases.append(Case(f"{prefix}_{role}_non_unique_signatures", "NonUniqueSignatures",
                              (signed_by(which, role, [own, own]),)))
        for role in roles:
            cases.append(Case(f"{prefix}_{role}_unsigned", "UnmetThreshold", (signed_by(which, role, []),)))
        for role in roles:
            cases.append(Case(f"{prefix}_{role}_bad_key_ids", "BadKeyId", (bad_key_id(which, SIGNING[which][role]),)))
        for role in roles:
            cases.append(Case(f"{prefix}_{role}_role_type_mismatch", "SecurityException", (wrong_type(which, role),)))
    return cases


ROTATION_NOTE = "a signature by a key root N does not list counts for nothing, so root N's threshold is unmet"


def _rotation_cases() -> list[Case]:
    cases: list[Case] = []
    for which, prefix, old in (("director", "director", 4), ("image", "image_repo", 0)):
        cases += [
            Case(f"{prefix}_root_rotation", None, (nothing, rotate(which, ([6], [old, 6], None)))),
            Case(f"{prefix}_root_rotation_multiple", None,
                 (nothing, rotate(which, ([6], [old, 6], None), ([7], [6, 7], None)))),
            Case(f"{prefix}_root_rotation_no_original_signature", "BadKeyId",
                 (nothing, rotate(which, ([6], [6], None))), e.ThresholdError, ROTATION_NOTE),
            Case(f"{prefix}_root_rotation_no_new_signature", "BadKeyId",
                 (nothing, rotate(which, ([6], [old], None))), e.ThresholdError,
                 "root N+1 must also meet its own threshold; key 6 did not sign"),
            Case(f"{prefix}_root_rotation_version_unchanged", "RootRotationError",
                 (nothing, rotate(which, ([6], [old, 6], 1)))),
            Case(f"{prefix}_root_rotation_version_skip", "RootRotationError",
                 (nothing, rotate(which, ([6], [old, 6], 3)))),
        ]
    return cases


def _delegation_cases() -> list[Case]:
    return [
        Case("delegation_simple", None, (delegate(),)),
        Case("delegation_redundant", None, (delegate(top_level=True, sign_with=[]),)),
        Case("delegation_path_mismatch", "TargetMismatch", (delegate(paths=["does-not-match"], threshold=1),)),
        Case("delegation_key_missing", "BadKeyId", (delegate(listed_keys=False, threshold=1),)),
        Case("delegation_unsigned", "UnmetThreshold", (delegate(sign_with=[]),)),
        Case("delegation_bad_key_ids", "BadKeyId", (delegate(bad_key_ids=True),)),
        Case("delegation_missing", "DelegationMissing", (delegate(name="missing", served=False),)),
        Case("delegation_empty", "TargetMismatch", (delegate(targets={}),)),
        Case("delegation_hash_mismatch", "TargetMismatch",
             (delegate(targets={TARGET_NAME: target(TARGET_CONTENT, image_custom(), "bad-hash")}),)),
        Case("delegation_expired", "TargetMismatch", (delegate(expired=True),), e.ExpiredMetadataError,
             "Uptane 5.4.4.7 step 1 aborts on an invalid role; we name the reason (expiry) instead of 'not found'"),
        Case("delegation_snapshot_missing", "VersionMismatch", (delegate(name="skipped", in_snapshot=False),)),
        Case("delegation_snapshot_version_mismatch", "VersionMismatch", (delegate(snapshot_version=2),)),
        Case("delegation_zero_threshold", "IllegalThreshold", (delegate(threshold=0),)),
        Case("delegation_unmet_threshold", "UnmetThreshold", (delegate(keys=(6, 7), sign_with=[6]),)),
        Case("delegation_two_signatures", None, (delegate(keys=(6, 7), sign_with=[6, 7]),)),
        Case("delegation_non_unique_signatures", "NonUniqueSignatures", (delegate(sign_with=[6, 6]),)),
    ]


CASES: list[Case] = [
    Case("simple", None, (nothing,)),
    *_per_role_cases(),
    Case("director_target_hash_mismatch", "TargetMismatch", (alter_target("director", "bad-hash"),)),
    Case("image_repo_target_hash_mismatch", "TargetMismatch", (alter_target("image", "bad-hash"),)),
    Case("director_target_oversized", "TargetMismatch", (alter_target("director", "oversized"),)),
    Case("image_repo_target_oversized", "TargetMismatch", (alter_target("image", "oversized"),)),
    Case("target_oversized", "OversizedTarget", (alter_target("both", "oversized"),),
         note="both repositories agree on a length one byte short: the download stops there"),
    *_rotation_cases(),
    Case("image_repo_metadata_changed_while_version_same", None,
         (changed_while_version_same_1, changed_while_version_same_2),
         note="Uptane 5.4.4.4 step 3 and 5.4.4.5 step 4 allow equal versions"),
    Case("director_bad_hw_id", "BadHardwareId", (alter_target("director", "bad-hw-id"),)),
    Case("image_repo_bad_hw_id", "TargetMismatch", (alter_target("image", "bad-hw-id"),)),
    Case("bad_hw_id", "BadHardwareId", (alter_target("both", "bad-hw-id"),)),
    Case("director_bad_ecu_id", "BadEcuId", (alter_target("director", "bad-ecu-id"),)),
    Case("image_repo_snapshot_targets_version_mismatch", "VersionMismatch", (snapshot_targets_version(2),)),
    *_delegation_cases(),
    Case("director_delegations", "DirectorDelegation", (director_delegates,)),
    Case("director_targets_same_ecu", "DirectorRepeatedEcuId", (same_ecu_twice,)),
    Case("image_repo_targets_too_large", "MetadataFetchFailure", (too_large("image"),)),
    Case("director_targets_too_large", "MetadataFetchFailure", (too_large("director"),)),
]
