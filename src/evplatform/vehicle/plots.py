"""Plots of a simulation: speed, battery power and SOC against time, consumption and range per vehicle.

Written as PNG (matplotlib's Agg backend, no display needed) and one HTML page that shows the table
and the images, so a run can be looked at in a browser or attached to a review.
"""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from evplatform.errors import VehicleError
from evplatform.vehicle.simulate import Simulation


def write_plots(simulation: Simulation, folder: str | Path) -> list[Path]:
    """Write the PNGs and ``index.html`` into ``folder`` (created); return the written paths."""
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise VehicleError(f"{out}: cannot create the output folder ({error.strerror})") from None
    result = simulation.cycle_result
    if result.time_s is None or result.speed_kmh is None or result.battery_power_kw is None or result.soc is None:
        raise VehicleError("the simulation was run without traces; run it with traces=True to plot")
    written: list[Path] = []
    series = (("speed", "speed (km/h)", result.speed_kmh), ("power", "battery power (kW)", result.battery_power_kw),
              ("soc", "state of charge (%)", result.soc * 100.0))
    for stem, label, values in series:
        fig, ax = plt.subplots(figsize=(10, 4))
        for i, name in enumerate(result.names):
            ax.plot(result.time_s, values[i], linewidth=0.8, label=name)
        ax.set_xlabel("time (s)")
        ax.set_ylabel(label)
        ax.set_title(f"{label} on {result.cycle}")
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        written.append(_save(fig, out / f"{stem}.png"))
    rows = simulation.results
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = [r["vehicle"] for r in rows]
    left.barh(names, [r["consumption_kwh_per_100km"]["plug"] for r in rows], label="at the plug")
    left.barh(names, [r["consumption_kwh_per_100km"]["battery"] for r in rows], label="battery side")
    left.set_xlabel("kWh/100 km")
    left.legend(fontsize=7)
    right.barh(names, [r["range_km"] for r in rows])
    right.set_xlabel(f"range (km, {rows[0]['range_rule']})")
    fig.tight_layout()
    written.append(_save(fig, out / "consumption_range.png"))
    page = out / "index.html"
    page.write_text(_html(simulation, [p.name for p in written]), encoding="utf-8")
    written.append(page)
    return written


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _html(simulation: Simulation, images: list[str]) -> str:
    head = ("vehicle", "cycle", "battery kWh/100 km", "plug kWh/100 km", "range km", "DC 10–80 % min",
            "0–100 km/h s", "top speed km/h", "trace miss s")
    body = []
    for r in simulation.results:
        cells = (r["vehicle"], r["cycle"], r["consumption_kwh_per_100km"]["battery"],
                 r["consumption_kwh_per_100km"]["plug"], r["range_km"], r["charge_10_80_min"],
                 r["accel_0_100_s"], r["top_speed_kmh"], r["trace_miss"]["seconds"])
        body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    figures = "\n".join(f'<p><img src="{html.escape(name)}" alt="{html.escape(name)}"></p>' for name in images)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>evplatform simulate</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}"
        "td:first-child{text-align:left}</style></head><body>\n<h1>Simulation</h1>\n<table><tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in head)
        + "</tr>\n" + "\n".join(body) + "\n</table>\n" + figures + "\n</body></html>\n"
    )
