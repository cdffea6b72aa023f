"""Charts come back as real PNG and SVG bytes; the index page lists them."""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import InsightsError
from evplatform.insights import business_report, plots, risks_report, scenarios_report

PNG = b"\x89PNG\r\n\x1a\n"


def test_every_chart_renders() -> None:
    scenarios = scenarios_report(None, draws=500, seed=0, names=["plan", "ai-autonomous"], sobol_samples=32)
    one = scenarios["scenarios"][1]
    images = [
        plots.business_plot(business_report(None)),
        plots.risk_matrix_plot(risks_report(None)),
        plots.scenario_comparison_plot(scenarios),
        plots.tornado_plot(one, "CNY"),
        plots.tornado_plot(one, "CNY", "advantage"),
        plots.sobol_plot(one),
    ]
    assert all(image.startswith(PNG) and len(image) > 5_000 for image in images)
    svg = plots.risk_matrix_plot(risks_report(None), fmt="svg")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg and b"R-02" in svg
    with pytest.raises(InsightsError, match="unknown image format 'gif'"):
        plots.risk_matrix_plot(risks_report(None), fmt="gif")


def test_index_page(tmp_path: Path) -> None:
    written = plots.write_images(tmp_path / "out", {"a.png": PNG})
    page = plots.write_index(tmp_path / "out", "T <1>", [("S", plots.html_table(["x"], [["<y>"]]), ["a.png"])])
    text = page.read_text()
    assert written[0].read_bytes() == PNG
    assert "T &lt;1&gt;" in text and '<img src="a.png"' in text and "&lt;y&gt;" in text
