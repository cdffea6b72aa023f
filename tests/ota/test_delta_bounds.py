"""The bounded patch appliers (``_bsdiff``, ``_hdiffpatch``, ``delta_cdc``): legitimate patches
rebuild exactly what the libraries rebuild; every declared size is checked (issue 14 item 3)."""

from __future__ import annotations

import bz2
import lzma

import bsdiff4
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evplatform.ota import _bsdiff, _hdiffpatch, delta_cdc
from evplatform.ota._patch_bounds import DeltaRefusedError
from ota.delta_bombs import (
    GIB,
    MEMORY_BOUND,
    bsdiff4_patch,
    bsdiff4_tuples,
    bz2_zeros,
    cdc_copy_bomb,
    detools_raw,
    hdiffpatch_lzma_bomb,
    hdiffpatch_patch,
    peak_memory,
)

OLD = bytes(range(256)) * 40
NEW = OLD[:3000] + b"inserted" * 50 + OLD[3100:]


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_bsdiff_applier_matches_bsdiff4(old: bytes, new: bytes) -> None:
    patch = bsdiff4.diff(old, new)
    assert _bsdiff.apply_patch(old, patch, len(new)) == bsdiff4.patch(old, patch) == new


def test_bsdiff_extra_block_bomb_is_refused() -> None:
    patch = bsdiff4_patch(len(NEW), bsdiff4_tuples((0, len(NEW), 0)), bz2.compress(b""), bz2_zeros(4 * GIB))
    peak, error = peak_memory(lambda: _bsdiff.apply_patch(OLD, patch, len(NEW)))
    assert isinstance(error, DeltaRefusedError) and "inflates past" in str(error) and peak < MEMORY_BOUND


def test_bsdiff_control_block_of_empty_tuples_is_refused() -> None:
    patch = bsdiff4_patch(len(NEW), bz2_zeros(4 * GIB), bz2.compress(b""), bz2.compress(b""))
    peak, error = peak_memory(lambda: _bsdiff.apply_patch(OLD, patch, len(NEW)))
    assert isinstance(error, DeltaRefusedError) and "write nothing" in str(error) and peak < MEMORY_BOUND


@pytest.mark.parametrize(("tuples", "message"), [
    (((len(NEW) + 1, 0, 0),), "writes past"),
    (((-1, 0, 0),), "writes past"),
    (((0, -5, 0),), "writes past"),
    (((10, 0, 0),), "produces 10 bytes"),
])
def test_bsdiff_control_tuples_are_bounded(tuples: tuple[tuple[int, int, int], ...], message: str) -> None:
    patch = bsdiff4_patch(len(NEW), bsdiff4_tuples(*tuples), bz2.compress(bytes(len(NEW) + 1)), bz2.compress(b""))
    with pytest.raises(DeltaRefusedError, match=message):
        _bsdiff.apply_patch(OLD, patch, len(NEW))


def test_bsdiff_declared_sizes_are_checked() -> None:
    patch = bsdiff4.diff(OLD, NEW)
    with pytest.raises(DeltaRefusedError, match="produces"):
        _bsdiff.apply_patch(OLD, patch, len(NEW) - 1)
    with pytest.raises(DeltaRefusedError, match="malformed header"):
        _bsdiff.apply_patch(OLD, patch[:8] + (1 << 40).to_bytes(8, "little") + patch[16:], len(NEW))
    with pytest.raises(DeltaRefusedError, match="bytes after"):
        _bsdiff.apply_patch(OLD, patch + b"junk", len(NEW))


def test_hdiffpatch_refuses_compressions_outside_the_allowed_list() -> None:
    for compression in (2, 3, 4, 5, 6, 7):
        with pytest.raises(DeltaRefusedError, match="compression"):
            _hdiffpatch.apply_patch(OLD, hdiffpatch_patch(compression, len(NEW), 10, b"x" * 10), len(NEW))


def test_hdiffpatch_body_size_is_bounded_by_the_signed_length() -> None:
    patch = hdiffpatch_lzma_bomb(len(NEW))
    peak, error = peak_memory(lambda: _hdiffpatch.apply_patch(OLD, patch, len(NEW)))
    assert isinstance(error, DeltaRefusedError) and "body declares" in str(error) and peak < MEMORY_BOUND


def test_hdiffpatch_body_inflating_past_its_declared_size_is_refused() -> None:
    raw = detools_raw(OLD, NEW)
    body = raw[raw.index(b"HDIFF13&"):]
    patch = hdiffpatch_patch(1, len(NEW), len(body), lzma.compress(body + bytes(1 << 20)))
    with pytest.raises(DeltaRefusedError, match="inflates past"):
        _hdiffpatch.apply_patch(OLD, patch, len(NEW))


def test_hdiffpatch_inner_header_is_checked_against_the_old_image_and_the_body() -> None:
    raw = detools_raw(OLD, NEW)
    assert _hdiffpatch.apply_patch(OLD, raw, len(NEW)) == NEW
    with pytest.raises(DeltaRefusedError, match="old image"):
        _hdiffpatch.apply_patch(OLD + b"x", raw, len(NEW))
    body = raw[raw.index(b"HDIFF13&"):]
    short = hdiffpatch_patch(0, len(NEW), len(body) - 1, body[:-1])
    with pytest.raises(DeltaRefusedError, match="do not match"):
        _hdiffpatch.apply_patch(OLD, short, len(NEW))
    compressed = body.replace(b"HDIFF13&\x00", b"HDIFF13&zlib\x00", 1)
    with pytest.raises(DeltaRefusedError, match="compressed inside"):
        _hdiffpatch.apply_patch(OLD, hdiffpatch_patch(0, len(NEW), len(compressed), compressed), len(NEW))


def test_cdc_copies_past_the_signed_length_are_refused_before_copying() -> None:
    patch = cdc_copy_bomb(len(OLD), len(NEW))
    assert len(patch) < 64 * 1024
    peak, error = peak_memory(lambda: delta_cdc.apply_patch(OLD, patch, len(NEW)))
    assert isinstance(error, DeltaRefusedError) and peak < MEMORY_BOUND


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_hdiffpatch_decoder_rebuilds_detools_patches(old: bytes, new: bytes) -> None:
    assert _hdiffpatch.apply_patch(old, detools_raw(old, new), len(new)) == new


def test_hdiffpatch_tampered_bodies_are_refused_not_fatal() -> None:
    """detools' C core calls exit(1) on a body it cannot apply; each tampered byte is refused here."""
    raw = detools_raw(OLD, NEW)
    refused = 0
    for position in range(raw.index(b"HDIFF13&") + 9, len(raw)):
        for value in (0x00, 0x7F, 0xFF):
            tampered = raw[:position] + bytes([value]) + raw[position + 1:]
            try:
                rebuilt = _hdiffpatch.apply_patch(OLD, tampered, len(NEW))
            except DeltaRefusedError:
                refused += 1
            else:
                assert len(rebuilt) == len(NEW)  # changed bytes: the signed hash catches them later
    assert refused > 0
