// The campaign page's decisions: acknowledge, exclude, retry, next wave, cancel. Each opens its form,
// asks for a reason and a confirmation, posts to the API and reloads the page (history, vehicles and
// cohorts change with it); the outcome is shown after the reload. Pause and resume are in app.js.
"use strict";

const STATUS_KEY = "evplatform-campaign-status";

function formBody(form) {
  const action = form.dataset.action;
  const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
  if (action === "ack") return { comment: value("comment") };
  if (action === "exclude") {
    const body = { reason: value("reason"), resume: form.elements.resume.checked };
    for (const [key, part] of new URLSearchParams(value("cohort"))) body[key] = part;
    return body;
  }
  if (action === "retry") {
    const body = { reason: value("reason") };
    if (value("wave")) body.wave = Number(value("wave"));
    return body;
  }
  return { reason: value("reason") };
}

function question(form, body) {
  const id = document.getElementById("controls").dataset.campaign;
  let what = "";
  switch (form.dataset.action) {
    case "ack": what = "Acknowledge the halt of campaign " + id + "?"; break;
    case "exclude":
      what = "Exclude " + form.elements.cohort.selectedOptions[0].textContent + " from campaign " + id +
             (body.resume ? " and resume it" : "") + "?";
      break;
    case "retry": what = "Offer the release again to the failed vehicles of campaign " + id + "?"; break;
    case "next-wave": what = "Open the next wave of campaign " + id + " now?"; break;
    default: what = "Cancel campaign " + id + " for good?";
  }
  return what + "\nReason: " + (body.reason || body.comment);
}

function closeForms(except) {
  for (const form of document.querySelectorAll("form.action-form")) {
    if (form === except) continue;
    form.hidden = true;
    const opener = document.querySelector('button[data-form="' + form.id + '"]');
    if (opener) opener.setAttribute("aria-expanded", "false");
  }
}

function setupForms() {
  const status = document.getElementById("control-status");
  for (const button of document.querySelectorAll("button[data-form]")) {
    button.addEventListener("click", () => {
      const form = document.getElementById(button.dataset.form);
      closeForms(form);
      form.hidden = !form.hidden;
      button.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) form.querySelector("select, textarea").focus();
    });
  }
  for (const form of document.querySelectorAll("form.action-form")) {
    form.querySelector("[data-close]").addEventListener("click", () => closeForms(null));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { api, token } = window.evplatform;
      if (!token()) { status.textContent = "Sign in first (release manager)."; return; }
      const body = formBody(form);
      if (!window.confirm(question(form, body))) { status.textContent = form.dataset.action + ": not confirmed"; return; }
      const id = document.getElementById("controls").dataset.campaign;
      try {
        const result = await api("POST", "/api/campaigns/" + id + "/" + form.dataset.action, body);
        let text = form.dataset.action + ": now " + result.state;
        if (result.vehicles_affected !== undefined) text += ", " + result.vehicles_affected + " vehicles";
        if (result.opened_wave !== undefined) text += ", wave " + result.opened_wave + " open";
        window.sessionStorage.setItem(STATUS_KEY, text);
        window.location.reload();
      } catch (error) {
        status.textContent = form.dataset.action + " refused: " + error.message;
      }
    });
  }
  const kept = window.sessionStorage.getItem(STATUS_KEY);
  if (kept) { status.textContent = kept; window.sessionStorage.removeItem(STATUS_KEY); }
}

document.addEventListener("DOMContentLoaded", setupForms);
