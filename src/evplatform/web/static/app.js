// evplatform dashboard: sign-in with a bearer token, live campaign progress, campaign controls.
// No framework and nothing fetched from outside this server.
"use strict";

const TOKEN_KEY = "evplatform-token";
const POLL_MS = 2000;

function token() { return window.localStorage.getItem(TOKEN_KEY); }

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  const t = token();
  if (t) headers["Authorization"] = "Bearer " + t;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = data.error ? data.error.message : response.statusText;
    throw new Error(response.status + " " + message);
  }
  return data;
}

function setWho(me) {
  const who = document.getElementById("who");
  if (who) who.textContent = me ? me.name + " (" + me.role + ")" : "Sign in";
}

async function showWho() {
  if (!document.getElementById("who") || !token()) return;
  try {
    setWho(await api("GET", "/api/me"));
  } catch (error) {
    setWho(null);
  }
}

function setupSignin() {
  const form = document.getElementById("signin-form");
  if (!form) return;
  const status = document.getElementById("signin-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    window.localStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
    try {
      const me = await api("GET", "/api/me");
      setWho(me);  // before the status line, which is what a person (or a test) waits for
      status.textContent = "Signed in as " + me.name + " (" + me.role + ").";
    } catch (error) {
      window.localStorage.removeItem(TOKEN_KEY);
      status.textContent = "Sign-in refused: " + error.message;
    }
  });
  document.getElementById("signout-button").addEventListener("click", () => {
    window.localStorage.removeItem(TOKEN_KEY);
    status.textContent = "Signed out.";
    setWho(null);
  });
}

const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function setText(id, text) {
  const element = document.getElementById(id);
  if (element && element.textContent !== text) element.textContent = text;
}

// Times: the server writes <time datetime="...Z"> in UTC without microseconds; show the viewer's zone.
const TIME_FORMAT = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
                      second: "2-digit", timeZoneName: "short" };

function localTime(iso) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? null : at.toLocaleString(undefined, TIME_FORMAT);
}

function showLocalTimes(root) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const text = localTime(element.getAttribute("datetime"));
    if (text === null) continue;
    element.title = element.getAttribute("datetime");
    element.textContent = text;
  }
}

function setTime(id, iso) {
  const element = document.getElementById(id);
  if (!element) return;
  const stamp = iso ? new Date(iso) : null;
  if (!stamp || Number.isNaN(stamp.getTime())) { setText(id, "—"); return; }
  const utc = stamp.toISOString().replace(/\.\d+Z$/, "Z");
  if (element.querySelector("time") && element.querySelector("time").getAttribute("datetime") === utc) return;
  const time = document.createElement("time");
  time.setAttribute("datetime", utc);
  element.replaceChildren(time);
  showLocalTimes(element);
}

// Tables: each in its own scroll box, so a phone scrolls the table, never the page; a box that
// scrolls is focusable (keyboard users scroll it with the arrow keys) and named after its table.
function boxTables() {
  for (const table of document.querySelectorAll("main table")) {
    if (table.parentElement.classList.contains("table-scroll")) continue;
    const box = document.createElement("div");
    box.className = "table-scroll";
    box.setAttribute("role", "region");
    const before = table.previousElementSibling;
    const named = table.caption || (before && /^H[1-6]$/.test(before.tagName) ? before : null);
    box.setAttribute("aria-label", named ? named.textContent.trim() : (table.id || "table").replace(/-/g, " "));
    table.before(box);
    box.append(table);
  }
  focusScrollingBoxes();
}

function focusScrollingBoxes() {
  for (const box of document.querySelectorAll(".table-scroll")) {
    if (box.scrollWidth > box.clientWidth) box.tabIndex = 0;
    else box.removeAttribute("tabindex");
  }
}

function render(progress) {
  const state = document.getElementById("campaign-state");
  if (state) { state.textContent = progress.state; state.className = "state state-" + progress.state; }
  setText("campaign-targets", number.format(progress.targets));
  setText("campaign-succeeded", number.format(progress.reports.succeeded));
  setText("campaign-failed", number.format(progress.reports.failed));
  setText("campaign-rolled-back", number.format(progress.reports.rolled_back));
  setTime("campaign-finished", progress.finished_at);
  for (const [id, text] of [["halt-reason", progress.halt_reason], ["ack-note", progress.acknowledgement],
                            ["cancel-note", progress.cancel_reason]]) {
    const note = document.getElementById(id);
    if (note) { note.hidden = !text; note.querySelector("span").textContent = text || ""; }
  }
  showAllowed(progress.allowed_actions || []);
  for (const wave of progress.waves) {
    const row = document.querySelector('#waves tr[data-wave="' + wave.index + '"]');
    if (!row) continue;
    for (const cell of row.querySelectorAll("[data-field]")) {
      const field = cell.dataset.field;
      if (field === "state") cell.innerHTML = '<span class="state state-' + wave.state + '">' + wave.state + "</span>";
      else cell.textContent = number.format(wave[field]);
    }
  }
}

// Only the buttons the campaign's state allows (the server's transition table, in allowed_actions).
function showAllowed(allowed) {
  const controls = document.getElementById("controls");
  if (!controls) return;
  for (const button of controls.querySelectorAll("button[data-action]")) {
    button.hidden = !allowed.includes(button.dataset.action);
  }
  const none = document.getElementById("no-actions");
  if (none) none.hidden = allowed.length > 0;
}

async function refreshChart(id) {
  for (const holder of document.querySelectorAll("[data-panel]")) {
    const response = await fetch("/campaigns/" + id + "/timeline.svg?panel=" + holder.dataset.panel,
                                 { cache: "no-store" });
    if (response.ok) holder.innerHTML = await response.text();
  }
}

function setupLive() {
  const section = document.querySelector("[data-live-campaign]");
  if (!section) return;
  const id = section.dataset.liveCampaign;
  let last = "";
  async function poll() {
    try {
      const progress = await api("GET", "/api/campaigns/" + id);
      render(progress);
      const signature = JSON.stringify([progress.state, progress.reports, progress.current_wave]);
      if (signature !== last) { last = signature; await refreshChart(id); }
      setText("last-poll", "(last " + new Date().toLocaleTimeString() + ")");
    } catch (error) {
      setText("last-poll", "(poll failed: " + error.message + ")");
    }
  }
  window.setInterval(poll, POLL_MS);
}

function setupControls() {
  // pause and resume act at once; the decisions that need a reason open their form (static/campaign.js)
  for (const button of document.querySelectorAll("button[data-action]:not([data-form])")) {
    button.addEventListener("click", async () => {
      const status = document.getElementById("control-status");
      const { action, campaign } = button.dataset;
      if (!token()) { status.textContent = "Sign in first (release manager)."; return; }
      try {
        const progress = await api("POST", "/api/campaigns/" + campaign + "/" + action);
        render(progress);
        status.textContent = action + ": now " + progress.state;
      } catch (error) {
        status.textContent = action + " refused: " + error.message;
      }
    });
  }
}

window.evplatform = { api, token, render };  // for the page scripts (static/campaign.js)

document.addEventListener("DOMContentLoaded", () => {
  boxTables();
  window.addEventListener("resize", focusScrollingBoxes);
  showLocalTimes(document);
  showWho();
  setupSignin();
  setupLive();
  setupControls();
});
