// Configurator page (issue 15 section 2): a session on /api/fm/sessions, states redrawn after each decision.
// Uses api() and token() from app.js (loaded first, both deferred). The rules, reasons, completion, BOM
// figures and the YAML export all come from the server: this file only sends clicks and draws answers.
"use strict";

(function () {
  const list = document.getElementById("cfg-features");
  if (!list) return;
  const status = document.getElementById("cfg-status");
  const reasonBox = document.getElementById("cfg-reason");
  let session = null;
  let reasons = {};

  function say(text) { status.textContent = text; }

  function rowOf(name) { return list.querySelector('li[data-feature="' + CSS.escape(name) + '"]'); }

  function draw(state) {
    session = state;
    reasons = {};
    const states = {};
    state.selected.forEach((n) => { states[n] = "selected"; });
    state.deselected.forEach((n) => { states[n] = "deselected"; });
    state.forced.forEach((r) => { states[r.feature] = "forced"; reasons[r.feature] = r; });
    state.forbidden.forEach((r) => { states[r.feature] = "forbidden"; reasons[r.feature] = r; });
    list.querySelectorAll("li[data-feature]").forEach((li) => {
      const name = li.dataset.feature;
      const s = states[name] || "open";
      li.dataset.state = s;
      li.querySelector(".cfg-state").textContent = s;
      li.querySelector(".cfg-retract").hidden = !(s === "selected" || s === "deselected");
      li.querySelector(".cfg-off").hidden = s !== "open" && s !== "selected";  // forced/forbidden: the rules decide
      const main = li.querySelector(".cfg-name");
      main.setAttribute("aria-label", (s === "forced" || s === "forbidden" ? "Why is " + name + " " + s
        : s === "open" ? "Select " + name : name + " is " + s));
    });
    document.getElementById("cfg-counts").textContent = state.selected.length + " selected, " +
      state.deselected.length + " deselected, " + state.forced.length + " forced, " + state.forbidden.length +
      " forbidden, " + state.open.length + " open" + (state.open.length === 0 ? " · every feature decided" : "") +
      " · server " + (1000 * state.seconds).toFixed(1) + " ms";
    document.getElementById("cfg-complete").disabled = false;
    document.getElementById("cfg-export").disabled = false;
    refreshBom();
  }

  async function refreshBom() {
    try {
      const figures = await api("GET", "/api/fm/sessions/" + session.id + "/bom");
      document.getElementById("cfg-bom").textContent = Math.round(figures.cost).toLocaleString("en-US");
      document.getElementById("cfg-mass").textContent = figures.mass_kg.toLocaleString("en-US");
    } catch (error) { /* the figures are extra: the states are already drawn */ }
  }

  function showReason(name) {
    const r = reasons[name];
    reasonBox.replaceChildren();
    const h = document.createElement("h2");
    h.textContent = "Why " + name + " is " + (rowOf(name) ? rowOf(name).dataset.state : "");
    reasonBox.append(h);
    const p = document.createElement("p");
    p.className = "cfg-rule";
    p.textContent = r && r.rule ? r.rule : "follows from the model as a whole (no single rule)";
    reasonBox.append(p);
    if (r && r.where) {
      const w = document.createElement("p");
      w.className = "small cfg-where";
      w.textContent = r.where;
      reasonBox.append(w);
    }
    if (r && r.decisions.length) {
      const d = document.createElement("p");
      d.className = "small";
      d.textContent = "because of: " + r.decisions.join(", ");
      reasonBox.append(d);
    }
  }

  async function decide(body, what) {
    if (!session) { say("Start a session first."); return; }
    const started = performance.now();
    try {
      draw(await api("POST", "/api/fm/sessions/" + session.id + "/decisions",
        Object.assign({ select: [], deselect: [], retract: [] }, body)));
      say(what + " (" + Math.round(performance.now() - started) + " ms)");
    } catch (error) { say("Refused: " + error.message); }
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

  document.getElementById("cfg-start").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!token()) { say("Sign in first: sessions need an account."); return; }
    const trim = document.getElementById("cfg-trim").value;
    const market = document.getElementById("cfg-market").value;
    try {
      if (session) await api("DELETE", "/api/fm/sessions/" + session.id).catch(() => null);
      draw(await api("POST", "/api/fm/sessions", trim ? { trim, market } : {}));
      say("Session started from " + (trim ? trim + " in " + market : "nothing decided") + ".");
    } catch (error) { say("Could not start: " + error.message); }
  });

  document.getElementById("cfg-complete").addEventListener("click", async () => {
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

  document.getElementById("cfg-export-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!session) return;
    const query = new URLSearchParams({ model: document.getElementById("cfg-model-id").value,
      trim: document.getElementById("cfg-trim-id").value });
    try {
      const out = await api("GET", "/api/fm/sessions/" + session.id + "/export?" + query);
      document.getElementById("cfg-yaml").textContent = out.yaml;
      document.getElementById("cfg-export-note").textContent = out.note +
        (out.complete ? "" : " · the configuration is not complete yet");
      const problems = document.getElementById("cfg-problems");
      problems.replaceChildren(...out.problems.map((text) => {
        const li = document.createElement("li");
        li.textContent = text;
        return li;
      }));
      say("Exported " + out.file + (out.problems.length ? " with " + out.problems.length + " problem(s)" : ""));
    } catch (error) { say("Export failed: " + error.message); }
  });
})();
