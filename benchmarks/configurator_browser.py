"""Configurator responsiveness (issue 15 section 2): a real server, Debian's chromium, the demo and Automotive02.

1. **Demo, in the browser**: a session from yu7/standard in CN; each step clicks a feature (select,
   then retract) and measures in the page, with ``performance.now()``, the time until the list shows
   the unit-propagation answer, the complete answer, and the figures table redrawn. Target: click →
   updated page ≤ 150 ms p50 (the complete answer).
2. **Automotive02 v4 as a workspace model** (18,616 features, ../shared/data): a workspace whose
   features.uvl is that model (one trim selecting a valid configuration of it, one market), served
   by ``evplatform serve``; the server time of one decision (``seconds`` of the answer) and the
   HTTP round trip, median of 20 random decisions on open features. Target ≤ 100 ms p50. Skipped,
   with the reason, when the shared data is absent.

Command: ``.venv/bin/python benchmarks/configurator_browser.py [--steps N]``; results in
``benchmarks/results/configurator_browser.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
A02 = HERE.parent.parent / "shared" / "data" / "feature-models" / "automotive02" / "automotive02_v4.uvl"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(folder: Path, workspace: Path | None) -> Iterator[tuple[str, str]]:
    """``evplatform serve`` on a fresh database with one viewer account: (url, token)."""
    from evplatform.store import create_account, issue_token, open_store

    database = f"sqlite:///{folder / 'bench.db'}"
    store = open_store(database)
    try:
        create_account(store, "bench", "viewer")
        token = issue_token(store, "bench")
    finally:
        store.dispose()
    port = _port()
    command = [sys.executable, "-m", "evplatform", "serve", "--database", database, "--host", "127.0.0.1",
               "--port", str(port)]
    if workspace is not None:
        command.insert(4, str(workspace))
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(url + "/api/platform", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start: " + (folder / "server.log").read_text()[-2000:])
            time.sleep(0.3)
        yield url, token
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
            "n": len(ordered)}


CLICK = """async (name) => {
  const list = document.getElementById("cfg-features");
  const li = list.querySelector('li[data-feature="' + CSS.escape(name) + '"]');
  const note = document.getElementById("cfg-figures-note");
  const body = document.querySelector("#cfg-figures tbody");
  const before = li.dataset.state;
  let unit = null, full = null, figures = null, rows = body.firstChild;
  const t0 = performance.now();
  (before === "open" ? li.querySelector(".cfg-name") : li.querySelector(".cfg-retract")).click();
  await new Promise((done) => {
    const check = () => {
      const t = performance.now();
      if (unit === null && li.dataset.state !== before) unit = t - t0;
      if (unit !== null && full === null && list.dataset.pending === "false") full = t - t0;
      if (full !== null && body.firstChild !== rows && !note.textContent.startsWith("Computing")) figures = t - t0;
      if (figures !== null || t - t0 > 30000) done(); else requestAnimationFrame(check);
    };
    check();
  });
  return { unit, full, figures };
}"""


def demo_in_browser(folder: Path, steps: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with served(folder, None) as (url, token), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/configurator")
        page.evaluate("t => window.localStorage.setItem('evplatform-token', t)", token)
        page.goto(url + "/configurator")
        page.select_option("#cfg-trim", "yu7/standard")
        page.select_option("#cfg-market", "CN")
        page.click("#cfg-open")
        page.wait_for_selector("#cfg-figures tbody tr", timeout=120_000)
        picks = page.evaluate("""() => [...document.querySelectorAll('#cfg-features li[data-state="open"]')]
            .map((li) => li.dataset.feature).slice(0, 4)""")  # each selected, then retracted
        timings: dict[str, list[float]] = {"unit": [], "full": [], "figures": []}
        for step in range(steps + 2):  # two warm-up clicks
            name = picks[(step // 2) % len(picks)]
            result = page.evaluate(CLICK, name)
            if result["figures"] is None:
                raise RuntimeError(f"step {step} ({name}): the page did not update: {result}")
            if step >= 2:
                for key in timings:
                    timings[key].append(result[key])
        browser.close()
    return {key: _stats(values) for key, values in timings.items()}


def _a02_workspace(folder: Path) -> Path:
    """A workspace around Automotive02 v4: one model whose one trim selects a valid configuration."""
    from evplatform.variability.cnf import encode
    from evplatform.variability.formats import load_model
    from evplatform.variability.propagation import Propagator

    root = folder / "a02"
    (root / "markets").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "features.uvl").write_bytes(A02.read_bytes())
    model = load_model(A02)
    with Propagator(encode(model)) as propagator:
        example = propagator.propagate().example or frozenset()
    (root / "platform.yaml").write_text(
        "name: Automotive02\nversion: '4'\ncurrency: EUR\nbase_market: XX\nfeatures: features.uvl\n"
        "parts: parts.csv\nregulations: regulations.csv\nsoftware: software.yaml\nmodels: [car]\nmarkets: [XX]\n",
        encoding="utf-8")
    (root / "parts.csv").write_text("part_no,name,module,unit_cost,mass_kg,supplier,qty,when\n", encoding="utf-8")
    (root / "regulations.csv").write_text("id,title,markets,requires,applies_new_types,applies_all,source,status\n",
                                          encoding="utf-8")
    (root / "software.yaml").write_text("components: []\n", encoding="utf-8")
    (root / "markets" / "XX.yaml").write_text("name: Nowhere\nunece: false\nhomologation_cycle: WLTC\n"
                                              "models: [car]\nselect: []\n", encoding="utf-8")
    selected = json.dumps(sorted(example))
    (root / "models" / "car.yaml").write_text(
        f"name: Car\nsegment: any\ntrims:\n  one:\n    name: One\n    price: 1\n    volume_per_year: 1\n"
        f"    select: {selected}\n", encoding="utf-8")
    return root


def automotive02_server(folder: Path, steps: int) -> dict[str, Any]:
    workspace = _a02_workspace(folder)
    rng = random.Random(1)
    with served(folder, workspace) as (url, token):
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
            started = time.perf_counter()
            state = client.post("/api/fm/sessions", json={}).json()
            first = time.perf_counter() - started
            server, round_trip, unit_server, unit_trip, sizes = [], [], [], [], []
            for _ in range(steps):
                name = rng.choice(state["open"])
                body = {"select": [name]} if rng.random() < 0.5 else {"deselect": [name]}
                t0 = time.perf_counter()
                quick = client.post(f"/api/fm/sessions/{state['id']}/decisions", params={"answer": "unit"}, json=body)
                t1 = time.perf_counter()
                full = client.get(f"/api/fm/sessions/{state['id']}")
                elapsed = time.perf_counter() - t0
                if quick.status_code != 200 or full.status_code != 200:
                    continue  # a refused decision (409): the next one
                unit_server.append(1000 * quick.json()["seconds"])
                state = full.json()
                server.append(1000 * (quick.json()["seconds"] + state["seconds"]))
                round_trip.append(1000 * elapsed)
                unit_trip.append(1000 * (t1 - t0))
                sizes.append(len(quick.content) + len(full.content))
                if not state["open"]:
                    break
    return {"features": state["features"], "open_session_s": round(first, 2), "server_ms": _stats(server),
            "unit_server_ms": _stats(unit_server), "round_trip_ms": _stats(round_trip),
            "unit_round_trip_ms": _stats(unit_trip), "answer_bytes_median": statistics.median(sizes)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    options = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"skipped: {CHROMIUM} is absent (Debian's chromium)")
        return 0
    out: dict[str, Any] = {"load_average": os.getloadavg(), "steps": options.steps}
    with tempfile.TemporaryDirectory(prefix="bench-cfg-") as tmp:
        folder = Path(tmp)
        (folder / "demo").mkdir()
        out["demo_browser_ms"] = demo_in_browser(folder / "demo", options.steps)
        if A02.exists():
            (folder / "a02srv").mkdir()
            out["automotive02"] = automotive02_server(folder / "a02srv", options.steps)
        else:
            out["automotive02"] = f"skipped: {A02} is absent (the shared reference data)"
    out["load_average_after"] = os.getloadavg()
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "configurator_browser.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    demo = out["demo_browser_ms"]
    print("| measure | p50 | p95 | n | target |\n|---|---:|---:|---:|---|")
    for key, label in (("unit", "demo: click → unit answer drawn"), ("full", "demo: click → complete answer drawn"),
                       ("figures", "demo: click → figures redrawn")):
        target = "≤ 150 ms p50" if key == "full" else ""
        print(f"| {label} | {demo[key]['p50']} ms | {demo[key]['p95']} ms | {demo[key]['n']} | {target} |")
    a02 = out["automotive02"]
    if isinstance(a02, dict):
        for key, label in (("server_ms", "Automotive02 v4: server time of a decision (unit + complete)"),
                           ("unit_server_ms", "— its unit answer, server time"),
                           ("unit_round_trip_ms", "— HTTP round trip of the unit answer (POST answer=unit)"),
                           ("round_trip_ms", "— HTTP round trip (POST answer=unit + GET)")):
            target = "≤ 100 ms p50" if key == "server_ms" else ""
            print(f"| {label} | {a02[key]['p50']} ms | {a02[key]['p95']} ms | {a02[key]['n']} | {target} |")
        print(f"answers (unit + complete): {a02['answer_bytes_median']:,.0f} bytes (median)")
    else:
        print(a02)
    print(f"load average before {out['load_average']}, after {out['load_average_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
