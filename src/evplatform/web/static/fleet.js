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

document.addEventListener("DOMContentLoaded", setupSaveGroup);
