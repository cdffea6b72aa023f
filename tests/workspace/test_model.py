"""Domain values of a loaded workspace: the market lineage every domain shares."""

from __future__ import annotations

from evplatform.workspace import load_workspace
from evplatform.workspace.model import market_lineage


def test_market_lineage_walks_up_nearest_first() -> None:
    parents = {"DE": "EU", "EU": None, "BY": "DE", "CN": None}
    assert market_lineage("BY", parents) == ["BY", "DE", "EU"]
    assert market_lineage("CN", parents) == ["CN"]


def test_market_lineage_stops_at_an_unknown_market_and_at_a_cycle() -> None:
    assert market_lineage("XX", {"DE": "EU"}) == ["XX"]
    assert market_lineage("DE", {"DE": "EU"}) == ["DE", "EU"]  # EU not listed: the chain ends there
    assert market_lineage("A", {"A": "B", "B": "C", "C": "A"}) == ["A", "B", "C"]


def test_workspace_lineage_follows_the_market_files() -> None:
    demo = load_workspace()
    for market in demo.markets.values():
        chain = demo.lineage(market.id)
        assert chain[0] == market.id
        assert chain[1:2] == ([market.parent] if market.parent else [])
    assert demo.lineage("ES") == ["ES", "EU"]
