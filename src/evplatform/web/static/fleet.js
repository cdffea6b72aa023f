// Fleet page: "Save as group" posts the page's current query as a saved group (release manager).
// Uses api() and token() from app.js (loaded first, both deferred).
"use strict";

function setupSaveGroup() {
  const form = document.getElementById("save-group");
  if (!form) return;
  const status = document.getElementById("group-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!token()) { status.textContent = "Sign in first (release manager)."; return; }
    const name = document.getElementById("group-name").value.trim();
    try {
      const group = await api("POST", "/api/fleet/groups", { name, query: form.dataset.query || "" });
      status.textContent = "Saved " + group.name + ": " + group.vehicles.toLocaleString("en") + " vehicles.";
      window.location.reload();
    } catch (error) {
      status.textContent = "Not saved: " + error.message;
    }
  });
}

// "Delete" on a saved group: asks first, then DELETE /api/fleet/groups/{name} (release manager; the
// server checks the role and the page shows its refusal). A campaign keeps the targets it started with.
function setupDeleteGroups() {
  const status = document.getElementById("group-status");
  for (const button of document.querySelectorAll("#group-list .delete-group")) {
    button.addEventListener("click", async () => {
      const name = button.dataset.group;
      if (!token()) { status.textContent = "Sign in first (release manager)."; return; }
      if (!window.confirm("Delete the saved group " + name + "? Campaigns already started keep their vehicles.")) {
        status.textContent = "Not deleted: " + name + " (not confirmed).";
        return;
      }
      try {
        await api("DELETE", "/api/fleet/groups/" + encodeURIComponent(name));
        button.closest("tr").remove();
        status.textContent = "Deleted " + name + ".";
      } catch (error) {
        status.textContent = "Not deleted: " + error.message;
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", setupSaveGroup);
document.addEventListener("DOMContentLoaded", setupDeleteGroups);
