// Campaign wizard (/campaigns/new, issue 16 section 1): the live count, the dry run and the creation.
// Uses api() and token() from app.js (loaded first, both deferred). Every rule is the server's: this file
// reads the form, asks /api/campaigns/preview (debounced), /dry-run and POST /api/campaigns, and draws answers.
"use strict";

(function () {
  const form = document.getElementById("wiz-form");
  if (!form) return;
  const DEBOUNCE_MS = 250;
  const $ = (id) => document.getElementById(id);
  const countBox = $("wiz-count");
  const status = $("wiz-status");
  const result = $("wiz-result");
  let timer = null;
  let asked = 0;  // the latest live count asked for; older answers are dropped

  const fmt = (n) => Number(n).toLocaleString("en-US");
  const chosen = (id) => Array.from($(id).selectedOptions).filter((o) => !o.hidden).map((o) => o.value);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // A data table in its own scroll box (a phone scrolls the table, never the page).
  function table(caption, headers, rows, numeric) {
    const box = el("div", null, "table-scroll");
    const t = el("table", null, "data");
    t.append(el("caption", caption, "small"));
    const head = el("tr");
    headers.forEach((h, i) => head.append(el("th", h, numeric.includes(i) ? "num" : "")));
    const thead = el("thead");
    thead.append(head);
    t.append(thead);
    const body = el("tbody");
    rows.forEach((r) => {
      const tr = el("tr");
      r.forEach((cell, i) => tr.append(el("td", cell, numeric.includes(i) ? "num" : "")));
      body.append(tr);
    });
    t.append(body);
    box.append(t);
    return box;
  }

  function releaseEcu() {
    const option = $("wiz-release").selectedOptions[0];
    return option && option.value ? option.dataset.ecu : null;
  }

  // Versions are per ECU: offer only those of the chosen release's ECU.
  function filterVersions() {
    const ecu = releaseEcu();
    Array.from($("wiz-versions").options).forEach((o) => {
      o.hidden = ecu !== null && o.dataset.ecu !== ecu;
      if (o.hidden) o.selected = false;
    });
  }

  function target() {
    const t = { models: chosen("wiz-models"), trims: chosen("wiz-trims"), markets: chosen("wiz-markets"),
      expression: $("wiz-expression").value.trim() || null, current_versions: chosen("wiz-versions") };
    if (form.dataset.group) t.group = form.dataset.group;
    return t;
  }

  function waves() {
    return Array.from($("wiz-waves").tBodies[0].rows).map((row) => ({
      fraction: Number(row.querySelector(".wave-share").value) / 100,
      success_threshold: Number(row.querySelector(".wave-success").value) / 100,
      error_threshold: Number(row.querySelector(".wave-error").value) / 100,
      soak_hours: Number(row.querySelector(".wave-soak").value),
    }));
  }

  function plan() {
    const release = $("wiz-release").value;
    return {
      name: $("wiz-name").value.trim() || (release ? release + " campaign" : ""),
      release_id: release, target: target(), waves: waves(), forced: $("wiz-forced").checked,
      consent: (document.querySelector('input[name="consent"]:checked') || { value: "auto" }).value,
      window: $("wiz-window-on").checked ? [$("wiz-window-start").value, $("wiz-window-end").value] : null,
      seed: Number($("wiz-seed").value || 0),
    };
  }

  function breakdown(data) {
    const box = $("wiz-breakdown");
    box.replaceChildren();
    [["by model", data.by_model, "model"], ["by trim", data.by_trim, "trim"], ["by market", data.by_market, "market"]]
      .forEach(([caption, counts, what]) => {
        const rows = Object.entries(counts).map(([k, n]) => [k, fmt(n)]);
        box.append(table("Matching vehicles " + caption, [what, "vehicles"], rows, [1]));
      });
  }

  async function liveCount() {
    if (!token()) { countBox.textContent = "Sign in to see how many vehicles match."; return; }
    const mine = ++asked;
    const body = { target: target() };
    if ($("wiz-release").value) body.release_id = $("wiz-release").value;
    countBox.textContent = "Counting…";
    try {
      const data = await api("POST", "/api/campaigns/preview", body);
      if (mine !== asked) return;
      countBox.replaceChildren(el("b", fmt(data.vehicles)), " of " + fmt(data.fleet) +
        " vehicles match the filter (before compatibility, installed version and consent; counted in " +
        (1000 * data.seconds).toFixed(0) + " ms).");
      countBox.dataset.count = String(data.vehicles);
      breakdown(data);
    } catch (error) {
      if (mine !== asked) return;
      delete countBox.dataset.count;
      countBox.textContent = "No count: " + error.message;
      $("wiz-breakdown").replaceChildren();
    }
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(liveCount, DEBOUNCE_MS);
  }

  function renumber() {
    Array.from($("wiz-waves").tBodies[0].rows).forEach((row, i) => {
      const n = i + 1;
      row.cells[0].textContent = String(n);
      row.querySelector(".wave-share").setAttribute("aria-label", "wave " + n + " share of targets in %");
      row.querySelector(".wave-success").setAttribute("aria-label", "wave " + n + " success threshold in %");
      row.querySelector(".wave-error").setAttribute("aria-label", "wave " + n + " error threshold in %");
      row.querySelector(".wave-soak").setAttribute("aria-label", "wave " + n + " soak in hours");
      row.querySelector(".wave-remove").setAttribute("aria-label", "Remove wave " + n);
    });
  }

  function addWave() {
    const body = $("wiz-waves").tBodies[0];
    const last = body.rows[body.rows.length - 1];
    if (last) {
      const copy = last.cloneNode(true);
      body.append(copy);
      last.querySelector(".wave-share").value = Math.min(99, Number(last.querySelector(".wave-share").value) / 2);
    }
    renumber();
  }

  function showDryRun(data) {
    result.replaceChildren();
    const t = data.targets;
    result.append(el("p", fmt(data.matched) + " vehicles match; " + fmt(t.vehicles) + " would be updated, in waves of " +
      data.wave_sizes.map(fmt).join(" + ") + "."));
    result.append(table("Left out, by reason (sample VINs)", ["reason", "vehicles", "sample VINs"],
      data.excluded.map((e) => [e.reason, fmt(e.vehicles), e.sample_vins.join(", ")]), [1]));
    const a = data.approvals;
    result.append(el("p", "Approvals: needed in " + (a.required.join(", ") || "no target market") + "; in force in " +
      (a.approved.join(", ") || "none") + "; missing in " + (a.missing.join(", ") || "none") + "."));
    if (data.blockers.length) {
      const box = el("div", null, "wiz-refused");
      box.id = "wiz-blockers";
      box.append(el("b", "A start would be refused:"));
      const list = el("ul");
      data.blockers.forEach((b) => list.append(el("li", b)));
      box.append(list);
      result.append(box);
    } else {
      result.append(el("p", "It would start.", "wiz-ok"));
    }
    result.append(table("Targets by market", ["market", "vehicles"],
      Object.entries(t.by_market).map(([k, n]) => [k, fmt(n)]), [1]));
  }

  async function dryRun() {
    if (!token()) { status.textContent = "Sign in first."; return; }
    status.textContent = "Dry run…";
    try {
      const data = await api("POST", "/api/campaigns/dry-run", plan());
      showDryRun(data);
      status.textContent = "Dry run done in " + (1000 * data.seconds).toFixed(0) + " ms: nothing was written.";
    } catch (error) {
      result.replaceChildren();
      status.textContent = "Dry run refused: " + error.message;
    }
  }

  async function create(start) {
    if (!token()) { status.textContent = "Sign in first (release manager)."; return; }
    status.textContent = start ? "Creating and starting…" : "Creating the draft…";
    try {
      const made = await api("POST", "/api/campaigns", Object.assign(plan(), { start }));
      result.replaceChildren();
      const p = el("p", null, "wiz-ok");
      p.id = "wiz-created";
      const link = el("a", "Campaign " + made.id);
      link.href = "/campaigns/" + made.id;
      p.append(link, " is " + made.state + " with " + fmt(made.targets) + " targets.");
      result.append(p);
      status.textContent = "Created campaign " + made.id + " (" + made.state + ").";
    } catch (error) {
      result.replaceChildren();
      const box = el("div", null, "wiz-refused");
      box.id = "wiz-refusal";
      box.append(el("b", (start ? "Not started" : "Not created") + ": nothing was created."), el("p", error.message));
      result.append(box);
      status.textContent = "Refused: " + error.message;
    }
  }

  $("wiz-waves").addEventListener("click", (event) => {
    const button = event.target.closest(".wave-remove");
    if (!button) return;
    const body = $("wiz-waves").tBodies[0];
    if (body.rows.length > 1) button.closest("tr").remove();
    renumber();
  });
  $("wiz-add-wave").addEventListener("click", addWave);
  $("wiz-release").addEventListener("change", () => { filterVersions(); soon(); });
  ["wiz-models", "wiz-trims", "wiz-markets", "wiz-versions"].forEach((id) => $(id).addEventListener("change", soon));
  $("wiz-expression").addEventListener("input", soon);
  $("wiz-clear").addEventListener("click", () => {
    ["wiz-models", "wiz-trims", "wiz-markets", "wiz-versions"].forEach((id) => {
      Array.from($(id).options).forEach((o) => { o.selected = false; });
    });
    $("wiz-expression").value = "";
    soon();
  });
  $("wiz-dry-run").addEventListener("click", dryRun);
  $("wiz-create-draft").addEventListener("click", () => create(false));
  $("wiz-create-start").addEventListener("click", () => create(true));
  form.addEventListener("submit", (event) => event.preventDefault());
  filterVersions();
  liveCount();
})();
