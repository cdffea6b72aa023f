// The data recipients page: an admin registers a recipient; its client secret is shown once.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("register-recipient");
  const status = document.getElementById("register-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const headers = { "Content-Type": "application/json", "Accept": "application/json" };
    const operatorToken = window.localStorage.getItem("evplatform-token");
    if (operatorToken) headers["Authorization"] = "Bearer " + operatorToken;
    const response = await fetch("/api/data/recipients", { method: "POST", headers, body: JSON.stringify({
      client_id: document.getElementById("recipient-id").value.trim(),
      name: document.getElementById("recipient-name").value.trim() }) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      status.textContent = "Refused: " + (data.error ? data.error.message : response.statusText);
      return;
    }
    status.textContent = "Registered " + data.client_id + ". Client secret (shown once): " + data.client_secret;
  });
});
