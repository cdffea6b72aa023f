"""Delta images: round trips for every algorithm, fallback, and every way a patch can be wrong."""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evplatform.errors import OtaError
from evplatform.ota.delta import ALGORITHMS, FULL, Delta, apply_delta, encode, make_delta


def _firmware(seed: int, size: int = 200_000) -> bytes:
    """Compressible, structured bytes (like code: repeated instruction patterns with varying operands)."""
    rng = random.Random(seed)
    words = [rng.randbytes(rng.randint(2, 12)) for _ in range(400)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words)
    return bytes(out[:size])


def _next_release(old: bytes, seed: int) -> bytes:
    """A new build: a few regions patched, one inserted, one removed — offsets shift like a relink."""
    rng = random.Random(seed)
    new = bytearray(old)
    for _ in range(20):
        at = rng.randrange(len(new) - 64)
        new[at : at + 16] = rng.randbytes(16)
    at = rng.randrange(len(new))
    new[at:at] = rng.randbytes(3000)
    at = rng.randrange(len(new) - 2000)
    del new[at : at + 2000]
    return bytes(new)


OLD = _firmware(1)
NEW = _next_release(OLD, 2)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_round_trip_and_much_smaller_than_the_image(algorithm: str) -> None:
    delta = make_delta(OLD, NEW, algorithm)
    assert delta.algorithm == algorithm
    assert delta.patch_length < 0.3 * delta.full_length
    assert delta.new_sha256 == hashlib.sha256(NEW).hexdigest()
    assert delta.old_sha256 == hashlib.sha256(OLD).hexdigest()
    assert delta.patch_sha256 == hashlib.sha256(delta.payload).hexdigest()
    assert apply_delta(OLD, delta, delta.new_sha256) == NEW


def test_default_algorithm_is_hdiffpatch_over_content_defined_segments() -> None:
    assert make_delta(OLD, NEW).algorithm == "hdiffpatch-cdc"


def _tree(files: list[bytes]) -> bytes:
    return b"".join(len(f).to_bytes(4, "little") + f for f in files)


def test_segments_find_moved_files_and_rebuild_the_tree() -> None:
    rng = random.Random(7)
    files = [rng.randbytes(rng.randint(20_000, 90_000)) for _ in range(12)]
    old = _tree(files)
    changed = [*files[:3], rng.randbytes(40_000), *files[3:7], _next_release(files[7], 3), *files[8:]]
    new = _tree(changed)  # a file inserted (everything after it moves), one file rebuilt
    delta = make_delta(old, new, "hdiffpatch-cdc")
    assert delta.algorithm == "hdiffpatch-cdc"
    assert delta.patch_length < 40_000 + 0.2 * len(files[7])  # the new file plus a fraction of the rebuilt one
    assert apply_delta(old, delta, delta.new_sha256) == new


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=st.binary(max_size=3000), new=st.binary(max_size=3000), algorithm=st.sampled_from((*ALGORITHMS, FULL)))
def test_round_trip_on_random_bytes(old: bytes, new: bytes, algorithm: str) -> None:
    delta = make_delta(old, new, algorithm)
    assert apply_delta(old, delta, hashlib.sha256(new).hexdigest()) == new


@settings(max_examples=20, deadline=None)
@given(data=st.data(), algorithm=st.sampled_from(ALGORITHMS))
def test_raw_patches_round_trip_on_edited_random_bytes(data: st.DataObject, algorithm: str) -> None:
    old = data.draw(st.binary(min_size=1, max_size=4000))
    cut = data.draw(st.integers(0, len(old)))
    new = old[:cut] + data.draw(st.binary(max_size=200)) + old[cut:]
    delta = make_delta(old, new, algorithm, fallback_ratio=float("inf"))  # never fall back: test the encoder
    assert delta.algorithm == algorithm
    assert encode(old, new, algorithm)  # the raw encoder works alone too
    assert apply_delta(old, delta, hashlib.sha256(new).hexdigest()) == new


def test_full_image_fallback_when_the_patch_does_not_pay() -> None:
    old, new = os.urandom(50_000), os.urandom(50_000)  # unrelated images: no patch beats compression
    delta = make_delta(old, new, "hdiffpatch")
    assert delta.algorithm == FULL
    assert delta.patch_length == delta.full_length
    # The fallback does not need the old image at all (a vehicle with a damaged slot can still update).
    assert apply_delta(b"", delta, delta.new_sha256) == new


def test_hash_mismatch_of_the_expected_image_is_rejected() -> None:
    delta = make_delta(OLD, NEW)
    with pytest.raises(OtaError, match="signed target"):
        apply_delta(OLD, delta, hashlib.sha256(b"something else").hexdigest())


def test_wrong_old_image_is_rejected() -> None:
    delta = make_delta(OLD, NEW)
    with pytest.raises(OtaError, match="installed image"):
        apply_delta(OLD[:-1] + b"\x00", delta, delta.new_sha256)


@pytest.mark.parametrize("algorithm", (*ALGORITHMS, FULL))
def test_corrupted_patch_is_rejected(algorithm: str) -> None:
    delta = make_delta(OLD, NEW, algorithm)
    flipped = bytearray(delta.payload)
    flipped[len(flipped) // 2] ^= 0xFF
    with pytest.raises(OtaError, match="corrupted"):
        apply_delta(OLD, replace(delta, payload=bytes(flipped)), delta.new_sha256)


@pytest.mark.parametrize("algorithm", (*ALGORITHMS, FULL))
def test_truncated_patch_is_rejected(algorithm: str) -> None:
    delta = make_delta(OLD, NEW, algorithm)
    with pytest.raises(OtaError, match="truncated"):
        apply_delta(OLD, replace(delta, payload=delta.payload[:-10]), delta.new_sha256)


@pytest.mark.parametrize("algorithm", (*ALGORITHMS, FULL))
def test_forged_patch_with_matching_metadata_still_fails_on_the_result(algorithm: str) -> None:
    """An attacker who controls the delta file and its unsigned metadata, but not the signed target hash."""
    delta = make_delta(OLD, NEW, algorithm)
    evil = make_delta(OLD, NEW[:-1] + bytes([NEW[-1] ^ 1]), algorithm)
    forged = replace(evil, new_sha256=delta.new_sha256)
    with pytest.raises(OtaError, match="hashes to"):
        apply_delta(OLD, forged, delta.new_sha256)


@pytest.mark.parametrize("algorithm", (*ALGORITHMS, FULL))
def test_patch_producing_more_bytes_than_declared_is_rejected(algorithm: str) -> None:
    """Endless data: the declared length bounds the output before anything is decoded."""
    delta = make_delta(OLD, NEW, algorithm)
    with pytest.raises(OtaError, match=r"produces|expected"):
        apply_delta(OLD, replace(delta, new_length=delta.new_length - 100), delta.new_sha256)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_garbage_patch_is_an_ota_error(algorithm: str) -> None:
    delta = make_delta(OLD, NEW, algorithm)
    garbage = b"\x00" * 64
    forged = replace(delta, payload=garbage, patch_length=64, patch_sha256=hashlib.sha256(garbage).hexdigest())
    with pytest.raises(OtaError):
        apply_delta(OLD, forged, delta.new_sha256)


def test_metadata_round_trip_and_director_field() -> None:
    delta = make_delta(OLD, NEW)
    again = Delta.from_metadata(delta.metadata(), delta.payload)
    assert again == delta
    assert list(delta.metadata()) == ["algorithm", "old_sha256", "old_length", "new_sha256", "new_length",
                                      "patch_sha256", "patch_length", "full_length"]
    assert delta.director_field() == {"algorithm": "hdiffpatch-cdc", "sha256": delta.patch_sha256,
                                      "length": delta.patch_length}
    with pytest.raises(OtaError, match="malformed"):
        Delta.from_metadata({"algorithm": "hdiffpatch"}, delta.payload)
    with pytest.raises(OtaError, match="corrupted"):
        Delta.from_metadata(delta.metadata(), delta.payload[::-1])


def test_unknown_algorithm() -> None:
    with pytest.raises(OtaError, match="unknown delta algorithm"):
        make_delta(OLD, NEW, "xz")
    with pytest.raises(OtaError, match="unknown delta algorithm"):
        apply_delta(OLD, replace(make_delta(OLD, NEW), algorithm="xz"), hashlib.sha256(NEW).hexdigest())
