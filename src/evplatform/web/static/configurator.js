// Configurator page (issue 15 section 2): a session on /api/fm/sessions, states redrawn after each decision.
// Uses api() and token() from app.js (loaded first, both deferred). The rules, reasons, completion, figures,
// closest compliant configuration and the YAML export all come from the server: this file only sends clicks
// and draws answers.
//
// Big models must not freeze the page (FeatureIDE issue #923): a decision is sent with answer=unit and its
// unit-propagation answer drawn at once; the complete answer (GET the session) and the figures follow, each
// drawn when it arrives, an older answer never over a newer one. The feature list is drawn in chunks of
// CHUNK rows (the next chunk when the end of the list scrolls into view) and filtered by name.
"use strict";

(function () {
  const list = document.getElementById("cfg-features");
  if (!list) return;
  const CHUNK = 200;
  const rows = JSON.parse(document.getElementById("cfg-rows").textContent);
  const status = document.getElementById("cfg-status");
  const reasonBox = document.getElementById("cfg-reason");
  const more = document.getElementById("cfg-more");
  const byId = (id) => document.getElementById(id);
  let session = null;
  let reasons = {};
  let states = {};
  let matching = rows;
  let shown = 0;
  let step = 0;  // each decision's number: answers to an older one are dropped
  let lastFigures = null;

  function say(text) { status.textContent = text; }
  function number(x, digits) {
    return x === null || x === undefined ? "—" : x.toLocaleString("en-US", { maximumFractionDigits: digits || 0 });
  }
  function rowOf(name) { return list.querySelector('li[data-feature="' + CSS.escape(name) + '"]'); }

  // --- the feature list, drawn in chunks ---------------------------------------------------------------
  function element(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function makeRow(f) {
    const li = element("li");
    li.dataset.feature = f.name;
    li.style.setProperty("--depth", String(Math.min(f.depth, 40)));
    const main = element("button", "cfg-name", f.name);
    main.type = "button";
    li.append(main);
    if (f.group) li.append(element("span", "small dim", f.group));
    if (f.cost !== null) li.append(element("span", "small", number(f.cost, 2)));
    li.append(element("span", "cfg-state", "open"));
    const off = element("button", "cfg-off", "✕");
    off.type = "button";
    off.title = "Deselect";
    off.setAttribute("aria-label", "Deselect " + f.name);
    const retract = element("button", "cfg-retract", "Retract");
    retract.type = "button";
    retract.hidden = true;
    retract.setAttribute("aria-label", "Retract the decision on " + f.name);
    li.append(off, retract);
    paint(li);
    return li;
  }

  function paint(li) {
    const name = li.dataset.feature;
    const s = states[name] || "open";
    li.dataset.state = s;
    li.querySelector(".cfg-state").textContent = s;
    li.querySelector(".cfg-retract").hidden = !(s === "selected" || s === "deselected");
    li.querySelector(".cfg-off").hidden = s !== "open" && s !== "selected";  // forced/forbidden: the rules decide
    li.querySelector(".cfg-name").setAttribute("aria-label", (s === "forced" || s === "forbidden"
      ? "Why is " + name + " " + s : s === "open" ? "Select " + name : name + " is " + s));
  }

  function showMore() {
    const next = matching.slice(shown, shown + CHUNK);
    const fragment = document.createDocumentFragment();
    next.forEach((f) => fragment.append(makeRow(f)));
    list.append(fragment);
    shown += next.length;
    const left = matching.length - shown;
    more.textContent = left > 0 ? left.toLocaleString("en-US") + " more: scroll on, or narrow the search" : "";
    byId("cfg-shown").textContent = matching.length.toLocaleString("en-US") + " of " +
      rows.length.toLocaleString("en-US") + " features";
  }

  function filter() {
    const needle = byId("cfg-find").value.trim().toLowerCase();
    matching = needle ? rows.filter((f) => f.name.toLowerCase().includes(needle)) : rows;
    list.replaceChildren();
    shown = 0;
    showMore();
  }

  if ("IntersectionObserver" in window) {
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && shown < matching.length) showMore();
    }, { root: list.parentElement, rootMargin: "200px" }).observe(more);
  }
  byId("cfg-find").addEventListener("input", filter);
  filter();

  // --- states, the complete answer and the figures -------------------------------------------------------
  function draw(state) {
    session = state;
    reasons = {};
    states = {};
    state.selected.forEach((n) => { states[n] = "selected"; });
    state.deselected.forEach((n) => { states[n] = "deselected"; });
    state.forced.forEach((r) => { states[r.feature] = "forced"; reasons[r.feature] = r; });
    state.forbidden.forEach((r) => { states[r.feature] = "forbidden"; reasons[r.feature] = r; });
    list.querySelectorAll("li[data-feature]").forEach(paint);  // only the rows drawn so far
    list.dataset.pending = state.pending ? "true" : "false";
    byId("cfg-counts").textContent = state.selected.length + " selected, " +
      state.deselected.length + " deselected, " + state.forced.length + " forced, " + state.forbidden.length +
      " forbidden, " + state.open.length + " open" +
      (state.pending ? " · so far (unit propagation; the complete answer follows)"
        : state.open.length === 0 ? " · every feature decided" : "") +
      " · server " + (1000 * state.seconds).toFixed(1) + " ms";
    ["cfg-complete", "cfg-export", "cfg-closest"].forEach((id) => { byId(id).disabled = false; });
  }

  async function settle(mine) {
    const full = await api("GET", "/api/fm/sessions/" + session.id);
    if (mine !== step) return false;
    draw(full);
    refreshBom();
    refreshFigures(mine);
    return true;
  }

  async function refreshBom() {
    try {
      const figures = await api("GET", "/api/fm/sessions/" + session.id + "/bom");
      byId("cfg-bom").textContent = Math.round(figures.cost).toLocaleString("en-US");
      byId("cfg-mass").textContent = figures.mass_kg.toLocaleString("en-US");
    } catch (error) { /* the figures are extra: the states are already drawn */ }
  }

  function figureQuery() {
    const markets = [...document.querySelectorAll('input[name="fig-market"]:checked')].map((e) => e.value);
    const query = new URLSearchParams({ markets: markets.join(","), date: byId("cfg-date").value });
    if (byId("cfg-base").value) query.set("base", byId("cfg-base").value);
    return query;
  }

  function cell(tr, text, cls) { tr.append(element("td", cls, text)); }

  async function refreshFigures(mine) {
    if (!session) return;
    const note = byId("cfg-figures-note");
    note.textContent = "Computing the figures …";
    let f;
    try {
      f = await api("GET", "/api/fm/sessions/" + session.id + "/figures?" + figureQuery());
    } catch (error) { note.textContent = "No figures: " + error.message; return; }
    if (mine !== undefined && mine !== step) return;
    lastFigures = f;
    byId("cfg-figures-csv").disabled = false;
    byId("cfg-unit").textContent = number(f.cost.unit);
    const delta = f.cost.unit_delta;
    byId("cfg-delta").textContent = delta === null ? "— (no base trim)" : (delta > 0 ? "+" : "") + number(delta);
    byId("cfg-fig-bom").textContent = number(f.cost.bom);
    byId("cfg-fig-mass").textContent = number(f.mass_kg, 1);
    note.textContent = (f.complete ? "" : "So far: ") + f.note + (f.base ? " · base " + f.base.trim : "") +
      " · verdicts on " + f.on + " (" + f.mode.replace("_", " ") + ") · " + Math.round(1000 * f.seconds) + " ms";
    note.dataset.basis = f.basis;
    const body = byId("cfg-figures").querySelector("tbody");
    body.replaceChildren(...f.markets.map((m) => {
      const tr = element("tr");
      tr.dataset.market = m.market;
      tr.dataset.verdict = m.verdict.status;
      const th = element("th", "", m.market);
      th.scope = "row";
      tr.append(th);
      cell(tr, m.homologation_cycle + " (" + m.cycle + ")");
      cell(tr, number(m.range_km), "num");
      cell(tr, number(m.consumption_kwh_per_100km, 2), "num");
      cell(tr, number(m.bom_cost), "num");
      cell(tr, number(m.mass_kg, 1), "num");
      cell(tr, m.verdict.status + (m.verdict.warnings.length ? " (" + m.verdict.warnings.length + " warning(s))" : ""),
        "cfg-verdict");
      cell(tr, m.verdict.missing.join(", ") || (m.verdict.violating.length ? "remove " + m.verdict.violating.join(", ") : "—"));
      return tr;
    }));
  }

  function csvCell(value) {
    const text = value === null || value === undefined ? "" : String(value);
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function downloadFigures() {  // the table as the API gave it (plain numbers, no separators), one row a market
    const f = lastFigures;
    if (!f) return;
    const head = ["market", "homologation_cycle", "cycle", "range_km", "consumption_kwh_per_100km", "bom_cost_" + f.currency,
      "bom_delta_" + f.currency, "mass_kg", "verdict", "missing", "violating", "date", "basis"];
    const lines = [head.join(",")].concat(f.markets.map((m) => [m.market, m.homologation_cycle, m.cycle, m.range_km,
      m.consumption_kwh_per_100km, m.bom_cost, m.bom_delta, m.mass_kg, m.verdict.status, m.verdict.missing.join(" "),
      m.verdict.violating.join(" "), f.on, f.basis].map(csvCell).join(",")));
    const url = URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "configurator-figures.csv";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  byId("cfg-figures-csv").addEventListener("click", downloadFigures);

  function showReason(name) {
    const r = reasons[name];
    reasonBox.replaceChildren();
    reasonBox.append(element("h2", "", "Why " + name + " is " + (states[name] || "")));
    reasonBox.append(element("p", "cfg-rule", r && r.rule ? r.rule : "follows from the model as a whole (no single rule)"));
    if (r && r.where) reasonBox.append(element("p", "small cfg-where", r.where));
    if (r && r.decisions.length) reasonBox.append(element("p", "small", "because of: " + r.decisions.join(", ")));
  }

  async function decide(body, what) {
    if (!session) { say("Start a session first."); return; }
    const mine = ++step;
    const started = performance.now();
    try {
      const quick = await api("POST", "/api/fm/sessions/" + session.id + "/decisions?answer=unit",
        Object.assign({ select: [], deselect: [], retract: [] }, body));
      if (mine !== step) return;
      draw(quick);
      say(what + " (" + Math.round(performance.now() - started) + " ms; completing …)");
      if (await settle(mine)) say(what + " (" + Math.round(performance.now() - started) + " ms)");
    } catch (error) {
      say("Refused: " + error.message);
      if (mine === step) settle(mine).catch(() => null);  // the decisions before the refused one
    }
  }

  list.addEventListener("click", (event) => {
    const li = event.target.closest("li[data-feature]");
    if (!li) return;
    const name = li.dataset.feature;
    const s = li.dataset.state;
    if (event.target.closest(".cfg-off")) {
      decide({ deselect: [name] }, "Deselected " + name);
    } else if (event.target.closest(".cfg-retract")) {
      decide({ retract: [name] }, "Retracted " + name);
    } else if (event.target.closest(".cfg-name")) {
      if (s === "forced" || s === "forbidden") showReason(name);
      else if (s === "open" || s === "deselected") decide({ select: [name] }, "Selected " + name);
    }
  });
  list.addEventListener("contextmenu", (event) => {  // the alternative action: right-click deselects
    const li = event.target.closest("li[data-feature]");
    if (!li || li.dataset.state === "forced" || li.dataset.state === "forbidden") return;
    event.preventDefault();
    decide({ deselect: [li.dataset.feature] }, "Deselected " + li.dataset.feature);
  });

  byId("cfg-start").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!token()) { say("Sign in first: sessions need an account."); return; }
    const trim = byId("cfg-trim").value;
    const market = byId("cfg-market").value;
    const mine = ++step;
    try {
      if (session) await api("DELETE", "/api/fm/sessions/" + session.id).catch(() => null);
      draw(await api("POST", "/api/fm/sessions", trim ? { trim, market } : {}));
      say("Session started from " + (trim ? trim + " in " + market : "nothing decided") + ".");
      refreshBom();
      refreshFigures(mine);
    } catch (error) { say("Could not start: " + error.message); }
  });

  byId("cfg-figures-form").addEventListener("change", () => refreshFigures());
  byId("cfg-figures-form").addEventListener("submit", (event) => { event.preventDefault(); refreshFigures(); });

  byId("cfg-complete").addEventListener("click", async () => {
    if (!session) return;
    try {
      say("Completing at least cost …");
      const best = await api("POST", "/api/fm/sessions/" + session.id + "/completion", { attribute: "cost" });
      const chosen = new Set(best.selected);  // the rest of the open features are off in the completion
      const off = session.open.filter((name) => !chosen.has(name));
      await decide({ select: best.added, deselect: off }, "Cheapest completion: " + best.added.length + " features added, cost " +
        best.cost.toLocaleString("en-US") + " (+" + best.added_cost.toLocaleString("en-US") + ")");
    } catch (error) { say("No completion: " + error.message); }
  });

  function changeList(title, items) {
    const box = element("div");
    box.append(element("h3", "", title));
    const ul = element("ul", "small");
    items.forEach((item) => ul.append(element("li", "", item)));
    box.append(ul);
    return box;
  }

  byId("cfg-closest-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!session) return;
    const market = byId("cfg-closest-market").value;
    const out = byId("cfg-closest-out");
    const mine = ++step;
    say("Looking for the closest configuration that complies in " + market + " …");
    try {
      const found = await api("POST", "/api/fm/sessions/" + session.id + "/closest",
        { market, date: byId("cfg-date").value, apply: true });
      out.replaceChildren(element("p", "cfg-closest-summary", "In " + market + " on " + found.on + ": " +
        found.before.status + " → " + found.after.status + "; " + found.changes + " decision(s) overturned, " +
        found.added.length + " feature(s) added, " + found.removed.length + " removed; BOM " +
        (found.bom_delta >= 0 ? "+" : "") + number(found.bom_delta) + " (" + found.rules.length + " rules in force)."));
      if (found.overturned.length) out.append(changeList("Decisions overturned", found.overturned.map((c) =>
        c.feature + ": was " + c.was + ", now " + c.now + " — " + c.why)));
      if (found.added.length) out.append(changeList("Added", found.added.map((c) => c.feature + " — " + c.why)));
      if (found.removed.length) out.append(changeList("Removed", found.removed.map((c) => c.feature + " — " + c.why)));
      const box = document.querySelector('input[name="fig-market"][value="' + CSS.escape(market) + '"]');
      if (box) box.checked = true;
      await settle(mine);
      say("Closest valid configuration in " + market + " applied: " + found.after.status + ".");
    } catch (error) { say("No compliant configuration: " + error.message); }
  });

  byId("cfg-export-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!session) return;
    const query = new URLSearchParams({ model: byId("cfg-model-id").value, trim: byId("cfg-trim-id").value });
    try {
      const out = await api("GET", "/api/fm/sessions/" + session.id + "/export?" + query);
      byId("cfg-yaml").textContent = out.yaml;
      byId("cfg-export-note").textContent = out.note + (out.complete ? "" : " · the configuration is not complete yet");
      byId("cfg-problems").replaceChildren(...out.problems.map((text) => element("li", "", text)));
      say("Exported " + out.file + (out.problems.length ? " with " + out.problems.length + " problem(s)" : ""));
    } catch (error) { say("Export failed: " + error.message); }
  });
})();
