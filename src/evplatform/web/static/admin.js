// Administration (/admin) and audit log (/audit) pages. Uses api(), token(), showLocalTimes() and
// focusScrollingBoxes() from app.js (loaded first; both scripts are deferred). The server decides
// everything (roles, the last-admin rule, expiry times); this script only asks and shows the answers.
"use strict";

const count = new Intl.NumberFormat("en-US");

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function timeCell(iso) {
  const td = document.createElement("td");
  if (!iso) { td.textContent = "never"; return td; }
  const time = document.createElement("time");
  time.setAttribute("datetime", new Date(iso).toISOString().replace(/\.\d+Z$/, "Z"));
  time.textContent = iso;
  td.append(time);
  return td;
}

function statusOf(error) { return Number.parseInt(String(error.message), 10) || 0; }

// Who is signed in: {me} or {status, message} with 401 (nobody, or a refused token) or 403 (not enough).
async function whoIsIt(role) {
  if (!token()) return { status: 401, message: "Nobody is signed in." };
  try {
    const me = await api("GET", "/api/me");
    if (role === "admin" && me.role !== "admin") {
      return { status: 403, me, message: "Account " + me.name + " is " + me.role + "; this page needs admin." };
    }
    return { me };
  } catch (error) {
    return { status: statusOf(error) || 401, message: error.message };
  }
}

function showAccess(element, who, what) {
  if (who.me && !who.status) {
    element.dataset.state = "ok";
    element.textContent = "Signed in as " + who.me.name + " (" + who.me.role + ").";
    return true;
  }
  element.dataset.state = "denied";
  element.textContent = who.status + " — " + (who.status === 403 ? "Not allowed. " : "Sign-in needed. ") +
    who.message + " " + what;
  return false;
}

// --- /admin -------------------------------------------------------------------------------------

function say(text) { document.getElementById("admin-result").textContent = text; }

function roleControl(account, roles) {
  const td = document.createElement("td");
  const select = document.createElement("select");
  select.setAttribute("aria-label", "new role of " + account.name);
  for (const role of roles) {
    const option = document.createElement("option");
    option.value = role; option.textContent = role; option.selected = role === account.role;
    select.append(option);
  }
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Change";
  button.setAttribute("aria-label", "change the role of " + account.name);
  button.addEventListener("click", async () => {
    let done;
    try {
      done = await api("PUT", "/api/accounts/" + encodeURIComponent(account.name) + "/role", { role: select.value });
    } catch (error) {
      say("Role change refused: " + error.message);
      select.value = account.role;
      return;
    }
    say(done.name + " is now " + done.role + ".");
    await refresh();
  });
  td.append(select, " ", button);
  return td;
}

function revokeControl(t) {
  const td = document.createElement("td");
  if (t.revoked) return td;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "danger";
  button.textContent = "Revoke";
  button.dataset.revoke = String(t.id);
  button.setAttribute("aria-label", "revoke token " + t.id + " of " + t.account);
  button.addEventListener("click", async () => {
    let done;
    try {
      done = await api("POST", "/api/tokens/" + t.id + "/revoke");
    } catch (error) {
      say("Revoke refused: " + error.message);
      return;
    }
    say("Revoked token " + done.revoked.join(", ") + ".");
    await refresh();
  });
  td.append(button);
  return td;
}

// Redraw after a change; when the change took this account's own admin role or token away, say so
// and disable the tools instead of reporting the (successful) change as refused.
async function refresh() {
  try {
    await loadAdmin();
  } catch (error) {
    document.getElementById("admin-tools").disabled = true;
    const status = document.getElementById("admin-status");
    status.dataset.state = "denied";
    status.textContent = error.message + " — this account can no longer administer; sign in again as an admin.";
  }
}

async function loadAdmin() {
  const [accounts, tokens] = await Promise.all([api("GET", "/api/accounts"), api("GET", "/api/tokens")]);
  const body = document.querySelector("#accounts tbody");
  body.replaceChildren(...accounts.accounts.map((a) => {
    const row = document.createElement("tr");
    row.dataset.account = a.name;
    row.append(cell(a.name), cell(a.role + (a.disabled ? " (disabled)" : "")), roleControl(a, accounts.roles));
    return row;
  }));
  const choose = document.getElementById("token-account");
  const chosen = choose.value;
  choose.replaceChildren(...accounts.accounts.map((a) => new Option(a.name + " (" + a.role + ")", a.name)));
  if (chosen) choose.value = chosen;
  const rows = tokens.tokens.slice().reverse().map((t) => {  // newest first
    const row = document.createElement("tr");
    row.dataset.token = String(t.id);
    row.append(cell(String(t.id), "num"), cell(t.account), cell(t.label || "—"), timeCell(t.created_at),
               timeCell(t.expires_at), cell(t.revoked ? "revoked" : "live"), revokeControl(t));
    return row;
  });
  document.querySelector("#tokens tbody").replaceChildren(...rows);
  showLocalTimes(document.getElementById("admin-tools"));
  focusScrollingBoxes();
}

function setupAdminForms() {
  document.getElementById("create-account").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = document.getElementById("new-name").value.trim();
    try {
      const done = await api("POST", "/api/accounts", { name, role: document.getElementById("new-role").value });
      say("Created " + done.name + " (" + done.role + ").");
      document.getElementById("new-name").value = "";
      await refresh();
      document.getElementById("token-account").value = done.name;
    } catch (error) {
      say("Account refused: " + error.message);
    }
  });
  document.getElementById("issue-token").addEventListener("submit", async (event) => {
    event.preventDefault();
    const account = document.getElementById("token-account").value;
    const body = { label: document.getElementById("token-label").value.trim(),
                   days: Number(document.getElementById("token-days").value) };
    try {
      const issued = await api("POST", "/api/accounts/" + encodeURIComponent(account) + "/tokens", body);
      document.getElementById("new-token-id").textContent = String(issued.id);
      document.getElementById("new-token-account").textContent = issued.account;
      const expires = document.getElementById("new-token-expires");
      expires.replaceChildren(...timeCell(issued.expires_at).childNodes);
      showLocalTimes(expires);
      document.getElementById("new-token-value").textContent = issued.token;
      document.getElementById("new-token").hidden = false;
      say("Issued token " + issued.id + " for " + issued.account + ".");
      await refresh();
    } catch (error) {
      say("Token refused: " + error.message);
    }
  });
}

async function setupAdmin() {
  const tools = document.getElementById("admin-tools");
  if (!tools || !document.getElementById("accounts")) return;
  const who = await whoIsIt("admin");
  if (!showAccess(document.getElementById("admin-status"), who, "Sign in with an admin's token.")) return;
  setupAdminForms();
  try {
    await loadAdmin();
    tools.disabled = false;
  } catch (error) {
    say("Could not load accounts: " + error.message);
  }
}

// --- /audit -------------------------------------------------------------------------------------

// The page's URL holds the form's values (local times as typed); the API gets UTC instants.
function auditQuery(params, limit, offset) {
  const query = new URLSearchParams({ limit: String(limit), offset: String(offset) });
  for (const name of ["who", "action"]) if (params.get(name)) query.set(name, params.get(name).trim());
  for (const [field, name] of [["from", "since"], ["to", "until"]]) {
    const at = params.get(field) ? new Date(params.get(field)) : null;
    if (at && !Number.isNaN(at.getTime())) query.set(name, at.toISOString());
  }
  return query;
}

function detailText(detail) {
  if (!detail || Object.keys(detail).length === 0) return "";
  return Object.entries(detail).map(([k, v]) => k + "=" + (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
}

function pageLink(id, params, page, show) {
  const link = document.getElementById(id);
  link.hidden = !show;
  const next = new URLSearchParams(params);
  next.set("page", String(page));
  link.href = "/audit?" + next.toString();
}

// A spreadsheet cell: quoted when needed; a leading = + - @ (a formula to a spreadsheet) is defused.
function csvCell(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

async function downloadCsv(params, max) {
  const lines = [["id", "at_utc", "who", "action", "subject", "detail_json"].join(",")];
  for (let offset = 0; offset < max; offset += 1000) {
    const page = await api("GET", "/api/audit?" + auditQuery(params, Math.min(1000, max - offset), offset));
    for (const e of page.entries) {
      lines.push([e.id, e.at, e.actor, e.action, e.subject, JSON.stringify(e.detail || {})].map(csvCell).join(","));
    }
    if (offset + page.entries.length >= page.total || page.entries.length === 0) break;
  }
  const url = URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = "audit.csv";
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return lines.length - 1;
}

async function setupAudit() {
  const table = document.getElementById("audit");
  if (!table) return;
  const params = new URLSearchParams(window.location.search);
  for (const name of ["who", "action", "from", "to"]) {
    const input = document.getElementById("audit-" + name);
    if (params.get(name)) input.value = params.get(name);
  }
  const status = document.getElementById("audit-status");
  const who = await whoIsIt("viewer");
  if (!showAccess(status, who, "Sign in to read the audit log.")) return;
  const size = Number(table.dataset.pageSize);
  const page = Math.max(0, Number.parseInt(params.get("page") || "0", 10) || 0);
  try {
    const data = await api("GET", "/api/audit?" + auditQuery(params, size, page * size));
    table.querySelector("tbody").replaceChildren(...data.entries.map((e) => {
      const row = document.createElement("tr");
      row.append(cell(String(e.id), "num"), timeCell(e.at), cell(e.actor), cell(e.action), cell(e.subject),
                 cell(detailText(e.detail), "detail"));
      return row;
    }));
    const first = data.entries.length ? data.offset + 1 : 0;
    document.getElementById("audit-range").textContent = data.total === 0 ? "No entry matches." :
      "Entries " + count.format(first) + "–" + count.format(data.offset + data.entries.length) + " of " +
      count.format(data.total) + ".";
    pageLink("audit-prev", params, page - 1, page > 0);
    pageLink("audit-next", params, page + 1, data.offset + data.entries.length < data.total);
    showLocalTimes(table);
    focusScrollingBoxes();
    const csv = document.getElementById("audit-csv");
    csv.disabled = data.total === 0;
    csv.addEventListener("click", async () => {
      try {
        const rows = await downloadCsv(params, Number(table.dataset.csvMax));
        document.getElementById("audit-range").textContent += " CSV: " + count.format(rows) + " rows.";
      } catch (error) {
        status.textContent = "CSV failed: " + error.message;
      }
    });
  } catch (error) {
    status.dataset.state = "denied";
    status.textContent = "Audit log refused: " + error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setupAdmin();
  setupAudit();
});
