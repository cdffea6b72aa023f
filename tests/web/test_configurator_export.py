"""Issue 15 section 2: a configurator session exported as ``models/<id>.yaml`` loads as a valid trim.

In-process (no browser): the export is made in the service layer, so the workspace reader is the judge.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evplatform.errors import VariabilityError
from evplatform.service.configurator import (
    ConfiguratorSession,
    Start,
    bom_figures,
    export_trim,
    feature_rows,
    start_from,
)
from evplatform.variability.cnf import encode
from evplatform.workspace import Workspace, load_workspace
from evplatform.workspace.loader import demo_path

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return load_workspace(None)


def _session(ws: Workspace, start: Start) -> ConfiguratorSession:
    return ConfiguratorSession("s1", "ann", ws.feature_model, encode(ws.feature_model), "features.uvl", start, NOW)


def _load_with(tmp_path: Path, exported: dict[str, str], model_id: str) -> Workspace:
    """The demo with the exported file added and its model listed in platform.yaml, as the note says."""
    root = tmp_path / "ws"
    shutil.copytree(demo_path(), root)
    (root / exported["file"]).write_text(exported["yaml"], encoding="utf-8")
    platform = root / "platform.yaml"
    text = platform.read_text(encoding="utf-8")
    assert "models: [su7, su7-ultra, yu7]" in text
    platform.write_text(text.replace("models: [su7, su7-ultra, yu7]", f"models: [su7, su7-ultra, yu7, {model_id}]"),
                        encoding="utf-8")
    assert model_id in exported["note"]
    return load_workspace(root)


def test_scratch_session_completed_exports_a_trim_the_workspace_reader_accepts(ws: Workspace, tmp_path: Path) -> None:
    session = _session(ws, Start())
    try:  # CityNOA, in the base market (its selections decided), completed at least cost
        session.apply(select=["CityNOA", *ws.markets[ws.platform.base_market].select])
        best = session.complete("cost")
        session.apply(select=best["added"])
        assert session.state()["complete"]
        exported = export_trim(ws, session, "custom-suv", "cheap")
    finally:
        session.close()
    assert exported["file"] == "models/custom-suv.yaml" and exported["problems"] == []
    loaded = _load_with(tmp_path, exported, "custom-suv")
    trim = loaded.trim("custom-suv/cheap")
    assert {"CityNOA", "LidarSuite", "AdasComputeHigh"} <= trim.selected  # decided and forced
    assert not any(name.startswith("Market_") for name in trim.selected)  # the markets add their own
    assert "LidarSuite" in loaded.configuration(trim)


def test_trim_in_a_market_exports_with_its_price_and_loads(ws: Workspace, tmp_path: Path) -> None:
    base = ws.trims()[0]
    session = _session(ws, start_from(ws, base.key, "EU"))
    try:
        exported = export_trim(ws, session, "copy", "of-base")
        figures = bom_figures(ws, session)
    finally:
        session.close()
    trim = _load_with(tmp_path, exported, "copy").trim("copy/of-base")
    assert trim.price == base.price and trim.volume_per_year == base.volume_per_year
    assert figures["cost"] > 0 and figures["mass_kg"] > 0


def test_export_names_what_the_reader_would_refuse(ws: Workspace) -> None:
    """Completed without the base market's selections, the trim breaks a rule there: the export says which."""
    session = _session(ws, Start())
    try:
        session.apply(select=["Market_EU"])
        session.apply(select=session.complete("cost")["added"])
        exported = export_trim(ws, session, "eu-only", "x")
    finally:
        session.close()
    assert exported["problems"] and all(p.startswith("in CN: ") for p in exported["problems"])
    assert any("line " in p for p in exported["problems"])


def test_export_refuses_an_id_that_is_no_file_name(ws: Workspace) -> None:
    session = _session(ws, Start())
    try:
        with pytest.raises(VariabilityError, match="letters, digits"):
            export_trim(ws, session, "../etc", "x")
    finally:
        session.close()


def test_feature_rows_follow_the_file_order_with_depths(ws: Workspace) -> None:
    rows = feature_rows(ws.feature_model)
    assert [r["name"] for r in rows] == list(ws.feature_model.features)  # file order, root first
    assert rows[0]["depth"] == 0 and rows[0]["group"] is None
    by_name = {r["name"]: r for r in rows}
    assert by_name["EDR"]["cost"] == 180 and by_name["Market_CN"]["group"] == "alternative"
