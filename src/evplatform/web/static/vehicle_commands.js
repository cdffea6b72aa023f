// The vehicle page's Commands section: the vehicle's commands (viewer or higher) and, for the roles the
// server names in data-roles, a form that sends one through POST /api/fleet/vehicles/{vin}/commands.
// The server decides everything (actions, expiry, roles); this script only asks and shows the answers.
"use strict";

(() => {
  const section = document.getElementById("commands");
  if (!section) return;
  const { api, token } = window.evplatform;
  const path = "/api/fleet/vehicles/" + encodeURIComponent(section.dataset.vin) + "/commands";
  const status = document.getElementById("commands-status");
  const body = document.querySelector("#commands-table tbody");

  function utc(iso) {
    return iso ? new Date(iso).toISOString().slice(0, 19).replace("T", " ") + " UTC" : "—";
  }

  function row(c) {
    const tr = document.createElement("tr");
    tr.dataset.command = c.id;
    const state = document.createElement("span");
    state.className = "state state-" + c.state;
    state.textContent = c.state;
    const cells = [c.action, state, c.issued_by, utc(c.issued_at), utc(c.expires_at), utc(c.answered_at), c.detail];
    for (const value of cells) {
      const td = document.createElement("td");
      td.append(value);
      tr.append(td);
    }
    return tr;
  }

  async function load() {
    const data = await api("GET", path);
    if (!data.commands.length) {
      const td = document.createElement("td");
      td.colSpan = 7;
      td.textContent = "No command has been sent to this vehicle.";
      const tr = document.createElement("tr");
      tr.append(td);
      body.replaceChildren(tr);
    } else {
      body.replaceChildren(...data.commands.map(row));
    }
    status.textContent = data.commands.length + " command(s).";
  }

  async function csv() {
    const headers = { "Accept": "text/csv" };
    if (token()) headers["Authorization"] = "Bearer " + token();
    const response = await fetch(path + "?format=csv", { headers });
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      status.textContent = "Refused: " + (data.error ? data.error.message : response.statusText);
      return;
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = "commands-" + section.dataset.vin + ".csv";
    link.click();
    URL.revokeObjectURL(link.href);
  }

  async function start() {
    document.getElementById("commands-csv").addEventListener("click", csv);
    if (!token()) return;
    try {
      const me = await api("GET", "/api/me");
      await load();
      const roles = section.dataset.roles.split(" ");
      document.getElementById("send-command").hidden = !roles.includes(me.role);
    } catch (error) {
      status.textContent = "Refused: " + error.message;
    }
  }

  document.getElementById("send-command").addEventListener("submit", async (event) => {
    event.preventDefault();
    const said = document.getElementById("command-sent");
    try {
      const sent = await api("POST", path, { action: document.getElementById("command-action").value,
                                             ttl_s: Number(document.getElementById("command-ttl").value) });
      said.textContent = "Sent " + sent.action + " (" + sent.state + ")" + (sent.published ? ", published to the broker."
        : "; recorded only: the server has no MQTT broker (serve --mqtt).");
      await load();
    } catch (error) {
      said.textContent = "Refused: " + error.message;
    }
  });

  document.addEventListener("DOMContentLoaded", start);
})();
