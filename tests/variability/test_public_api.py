"""The variability package exports a small, sorted, importable namespace."""

from __future__ import annotations

import evplatform.variability as variability


def test_all_is_sorted_and_importable() -> None:
    assert variability.__all__ == sorted(variability.__all__)
    for name in variability.__all__:
        assert getattr(variability, name) is not None
    public = {n for n in dir(variability) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(variability, n)).__name__ == "module"}
    assert public - modules == set(variability.__all__)
