"""UVL language levels: which ones the reader implements, and a clear refusal for the others.

A UVL file may declare the language levels it relies on in its ``include`` section, one per line:
a major level (``Boolean``, ``Arithmetic``, ``Type``), optionally followed by one of its minor
levels (``Boolean.group-cardinality``) or ``.*`` for all of them — the uvl-parser grammar's
``languageLevel: majorLevel ('.' (minorLevel | '*'))?``.

The reader implements the Boolean level with its group-cardinality minor level: the feature tree,
the four group kinds and ``[n..m]`` groups, propositional constraints. It does not implement the
Arithmetic level (feature cardinalities — clones —, arithmetic and aggregate constraints) nor the
Type level (the values of ``String``/``Integer``/``Real`` features and constraints over them;
typed features are read as plain features that keep their type as an attribute). A model that
declares one of those means something the analyses would not compute, so it is refused instead of
being read with another meaning.
"""

from __future__ import annotations

#: Each major level and its minor levels (the uvl-parser grammar and the UVL paper's level table).
MINOR_LEVELS: dict[str, tuple[str, ...]] = {
    "Boolean": ("group-cardinality",),
    "Arithmetic": ("feature-cardinality", "aggregate-function"),
    "Type": ("string-constraints",),
}
#: The levels this reader implements, as they may be written in an ``include`` section.
SUPPORTED_LEVELS = ("Boolean", "Boolean.*", "Boolean.group-cardinality")


def level_problem(level: str) -> str | None:
    """``None`` when the reader implements ``level``; otherwise the message saying why not."""
    if level in SUPPORTED_LEVELS:
        return None
    supported = ", ".join(SUPPORTED_LEVELS)
    major, dot, minor = level.partition(".")
    if major not in MINOR_LEVELS or (dot and not minor):
        known = ", ".join(MINOR_LEVELS)
        return f"unknown language level {level!r}: a level is one of {known}, optionally .<minor level> or .*"
    if dot and minor != "*" and minor not in MINOR_LEVELS[major]:
        minors = ", ".join(MINOR_LEVELS[major])
        return f"unknown language level {level!r}: the minor levels of {major} are {minors}"
    return f"language level {level} is not supported by this reader (supported: {supported})"


def feature_cardinality_problem() -> str:
    """Why a feature cardinality (``F cardinality [1..3]``, clones of F) is refused."""
    return (
        "feature cardinality (language level Arithmetic.feature-cardinality) is not supported by this reader: "
        "clones of a feature cannot be analysed as one Boolean feature"
    )
