// The owner portal: an owner's own token (never an operator's), their vehicles' data, export,
// consents with grant and revoke, and the access log. Everything through /api/owner; text only
// (textContent), no HTML from data.
"use strict";

const OWNER_KEY = "evplatform-owner-token";

function ownerToken() { return window.localStorage.getItem(OWNER_KEY); }

async function ownerApi(method, path, body) {
  const headers = { "Accept": "application/json", "Authorization": "Bearer " + (ownerToken() || "") };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(response.status + " " + (data.error ? data.error.message : response.statusText));
  return data;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function element(tag, text, attributes) {
  const made = document.createElement(tag);
  if (text !== undefined) made.textContent = text;
  for (const [key, value] of Object.entries(attributes || {})) made.setAttribute(key, value);
  return made;
}

async function download(vin, format) {
  const path = "/api/owner/vehicles/" + encodeURIComponent(vin) + (format === "csv" ? "/export.csv" : "/export");
  const response = await fetch(path, { headers: { "Authorization": "Bearer " + ownerToken() } });
  if (!response.ok) { document.getElementById("owner-status").textContent = "Export refused: " + response.status; return; }
  const url = URL.createObjectURL(await response.blob());
  const link = element("a", "", { href: url, download: vin + "-data." + format });
  document.body.appendChild(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
  await refresh();
}

function renderVehicles(vehicles) {
  const root = document.getElementById("vehicles");
  root.replaceChildren();
  for (const vehicle of vehicles) {
    const section = element("section", undefined, { "class": "vehicle", "data-vin": vehicle.vin });
    section.appendChild(element("h3", vehicle.vin + " · " + vehicle.model + " " + vehicle.trim + " (" + vehicle.market + ")"));
    const cats = element("table", undefined, { "class": "data categories" });
    cats.appendChild(element("caption", "Data categories collected"));
    const head = cats.createTHead().insertRow();
    for (const title of ["Category", "What", "Signals", "Apps collecting it", "Kept (days)"]) head.appendChild(element("th", title, { scope: "col" }));
    const body = cats.createTBody();
    for (const c of vehicle.categories) {
      const row = body.insertRow();
      cell(row, c.id); cell(row, c.description); cell(row, String(c.signals.length) + " signals");
      cell(row, c.apps.join(", ") || "—"); cell(row, c.retention_days === null ? "—" : String(c.retention_days));
    }
    section.appendChild(cats);
    const values = element("table", undefined, { "class": "data recent" });
    values.appendChild(element("caption", "Recent values"));
    const vhead = values.createTHead().insertRow();
    for (const title of ["When (UTC)", "Category", "Signal", "Value"]) vhead.appendChild(element("th", title, { scope: "col" }));
    const vbody = values.createTBody();
    for (const v of vehicle.recent.slice(0, 10)) {
      const row = vbody.insertRow();
      cell(row, v.at.replace("T", " ").slice(0, 19)); cell(row, v.category); cell(row, v.signal);
      cell(row, v.value === null ? "—" : v.value + " " + v.unit);
    }
    section.appendChild(values);
    for (const format of ["json", "csv"]) {
      const button = element("button", "Export " + format.toUpperCase(), { type: "button", "class": "export-" + format });
      button.addEventListener("click", () => download(vehicle.vin, format));
      section.appendChild(button);
    }
    root.appendChild(section);
  }
}

function renderGrants(grants) {
  const body = document.querySelector("#grants tbody");
  body.replaceChildren();
  for (const g of grants) {
    const row = body.insertRow();
    row.dataset.grant = String(g.id);
    cell(row, String(g.id)); cell(row, g.vin); cell(row, g.recipient); cell(row, g.categories.join(", "));
    cell(row, g.starts_at.slice(0, 16).replace("T", " ")); cell(row, g.expires_at.slice(0, 16).replace("T", " "));
    cell(row, g.live ? "live" : (g.revoked_at ? "revoked" : "ended"));
    const actions = cell(row, "");
    if (g.live) {
      const button = element("button", "Revoke", { type: "button", "class": "revoke" });
      button.addEventListener("click", async () => {
        await ownerApi("POST", "/api/owner/grants/" + g.id + "/revoke");
        await refresh();  // the status says "revoked" only once the table shows it
        document.getElementById("grant-status").textContent = "Revoked consent " + g.id + ".";
      });
      actions.appendChild(button);
    }
  }
}

function renderLog(entries) {
  const body = document.querySelector("#access-log tbody");
  body.replaceChildren();
  for (const e of entries) {
    const row = body.insertRow();
    cell(row, e.at.replace("T", " ").slice(0, 19)); cell(row, e.vin); cell(row, e.actor); cell(row, e.action);
    cell(row, e.categories.join(", "));
  }
}

function fillGrantForm(vehicles, recipients) {
  const vins = document.getElementById("grant-vin");
  vins.replaceChildren(...vehicles.map((v) => element("option", v.vin, { value: v.vin })));
  const recs = document.getElementById("grant-recipient");
  recs.replaceChildren(...recipients.map((r) => element("option", r.name + " (" + r.client_id + ")", { value: r.client_id })));
  const box = document.getElementById("grant-categories");
  box.replaceChildren(element("legend", "categories"));
  const categories = vehicles.length ? vehicles[0].categories : [];
  for (const c of categories) {
    const label = element("label", " " + c.id);
    const input = element("input", undefined, { type: "checkbox", name: "category", value: c.id });
    label.prepend(input);
    box.appendChild(label);
  }
}

async function refresh() {
  const [vehicles, grants, log, recipients] = await Promise.all([
    ownerApi("GET", "/api/owner/vehicles"), ownerApi("GET", "/api/owner/grants"), ownerApi("GET", "/api/owner/log"),
    ownerApi("GET", "/api/owner/recipients")]);
  renderVehicles(vehicles.vehicles);
  renderGrants(grants.grants);
  renderLog(log.entries);
  if (!document.getElementById("grant-vin").options.length) fillGrantForm(vehicles.vehicles, recipients.recipients);
  document.getElementById("owner-data").hidden = false;
  return vehicles;
}

async function signIn() {
  const status = document.getElementById("owner-status");
  try {
    const vehicles = await refresh();
    status.textContent = "Signed in as " + vehicles.owner + ".";
  } catch (error) {
    window.localStorage.removeItem(OWNER_KEY);
    document.getElementById("owner-data").hidden = true;
    status.textContent = "Sign-in refused: " + error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("owner-signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    window.localStorage.setItem(OWNER_KEY, document.getElementById("owner-token").value.trim());
    await signIn();
  });
  document.getElementById("owner-signout-button").addEventListener("click", () => {
    window.localStorage.removeItem(OWNER_KEY);
    document.getElementById("owner-data").hidden = true;
    document.getElementById("owner-status").textContent = "Signed out.";
  });
  document.getElementById("grant-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = document.getElementById("grant-status");
    const categories = [...document.querySelectorAll("#grant-categories input:checked")].map((i) => i.value);
    try {
      const made = await ownerApi("POST", "/api/owner/grants", {
        vin: document.getElementById("grant-vin").value, recipient: document.getElementById("grant-recipient").value,
        categories, days: Number(document.getElementById("grant-days").value) });
      await refresh();  // the status says "granted" only once the table shows it
      status.textContent = "Granted consent " + made.id + " to " + made.recipient + ".";
    } catch (error) {
      status.textContent = "Refused: " + error.message;
    }
  });
  if (ownerToken()) signIn();
});
