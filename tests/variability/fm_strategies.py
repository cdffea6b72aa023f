"""Hypothesis strategies for small random feature models, and a brute-force oracle.

Imported by the variability tests as ``variability.fm_strategies`` (tests/ is on the path).
"""

from __future__ import annotations

from itertools import combinations

from hypothesis import strategies as st

from evplatform.variability.model import (
    And,
    Const,
    Constraint,
    Expr,
    Feature,
    FeatureModel,
    Group,
    GroupKind,
    Iff,
    Implies,
    Not,
    Or,
    Var,
)

KINDS = list(GroupKind)


def expressions(names: list[str], depth: int = 3) -> st.SearchStrategy[Expr]:
    """Random propositional formulas with every operator (and constants) over ``names``."""
    leaves: st.SearchStrategy[Expr] = st.one_of(
        st.sampled_from(names).map(Var), st.booleans().map(Const)
    ) if depth <= 1 else st.sampled_from(names).map(Var)

    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        pair = st.tuples(inner, inner)
        return st.one_of(
            inner.map(Not),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
            pair.map(lambda ab: Implies(*ab)),
            pair.map(lambda ab: Iff(*ab)),
        )

    return st.recursive(st.one_of(leaves, st.booleans().map(Const)), extend, max_leaves=6)


@st.composite
def feature_models(draw: st.DrawFn, max_features: int = 8, max_constraints: int = 3) -> FeatureModel:
    """A random tree with every group kind (cardinalities included) and a few constraints."""
    n = draw(st.integers(1, max_features))
    names = [f"F{i}" for i in range(n)]
    features = {name: Feature(name, line=i + 1) for i, name in enumerate(names)}
    for i in range(1, n):
        parent = names[draw(st.integers(0, i - 1))]
        features[names[i]].parent = parent
        owner = features[parent]
        join = bool(owner.groups) and draw(st.booleans())
        if join:
            owner.groups[draw(st.integers(0, len(owner.groups) - 1))].children.append(names[i])
        else:
            kind = draw(st.sampled_from(KINDS))
            low, high = draw(st.integers(0, 3)), draw(st.one_of(st.none(), st.integers(0, 4)))
            if high is not None and high < low:
                low, high = high, low
            owner.groups.append(Group(kind, [names[i]], low, high, line=100 + i))
    k = draw(st.integers(0, max_constraints))
    constraints = [Constraint(draw(expressions(names)), line=200 + j) for j in range(k)]
    return FeatureModel(names[0], features, constraints, "random.uvl")


def brute_force(model: FeatureModel) -> set[frozenset[str]]:
    """Every valid configuration, by enumerating all subsets that contain the root."""
    others = [name for name in model.features if name != model.root]
    out: set[frozenset[str]] = set()
    for size in range(len(others) + 1):
        for chosen in combinations(others, size):
            config = frozenset((model.root, *chosen))
            if not model.configuration_errors(config):
                out.add(config)
    return out
