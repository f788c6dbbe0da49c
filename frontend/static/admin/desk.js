// Embedded admin, help desk: business hours, first-response targets and saved replies, through /api/v1
// with the session token.
import { busy, button, cell, say } from "./shell.js";
import { t } from "./i18n.js";
import { api, errorText } from "./session.js";

const $ = (role) => document.querySelector(`[data-role="${role}"]`);
const CHANNELS = ["web_chat", "line", "email", "api"];
let editing = null; // the id of the saved reply in the form, or null for a new one

function showHours(hours, shopZone) {
  $("hours-on").checked = Boolean(hours);
  $("hours-fields").hidden = !hours;
  $("timezone").value = (hours && hours.timezone) || shopZone || "";
  for (const row of document.querySelectorAll("[data-day]")) {
    const day = hours && hours.week[row.dataset.day];
    row.querySelector('[name="open"]').checked = Boolean(day);
    if (day) {
      row.querySelector('[name="opens"]').value = day.opens;
      row.querySelector('[name="closes"]').value = day.closes === "24:00" ? "23:59" : day.closes;
    }
  }
  $("holidays").value = hours ? hours.holidays.join("\n") : "";
}

function readHours() {
  if (!$("hours-on").checked) return null;
  const week = {};
  for (const row of document.querySelectorAll("[data-day]")) {
    if (!row.querySelector('[name="open"]').checked) continue;
    const closes = row.querySelector('[name="closes"]').value;
    week[row.dataset.day] = {
      opens: row.querySelector('[name="opens"]').value,
      // a time input cannot say 24:00: 23:59 stands for closing at midnight
      closes: closes === "23:59" ? "24:00" : closes,
    };
  }
  const holidays = $("holidays")
    .value.split(/[\s,]+/)
    .map((day) => day.trim())
    .filter(Boolean);
  return { timezone: $("timezone").value.trim() || null, week, holidays };
}

async function loadSettings() {
  try {
    const settings = await api("GET", "/api/v1/desk-settings");
    showHours(settings.business_hours, settings.shop_timezone);
    for (const channel of CHANNELS) {
      $("targets").querySelector(`[name="${channel}"]`).value = settings.first_response_minutes[channel];
    }
  } catch (error) {
    say($("desk-message"), errorText(error), "critical");
  } finally {
    // usable once the saved settings are shown, so a click made earlier is never overwritten by them
    $("hours-on").disabled = false;
  }
}

async function saveSettings() {
  const minutes = {};
  for (const channel of CHANNELS) {
    const input = $("targets").querySelector(`[name="${channel}"]`);
    if (!input.checkValidity()) {
      input.reportValidity();
      return;
    }
    minutes[channel] = Number(input.value);
  }
  try {
    const saved = await api("PUT", "/api/v1/desk-settings", {
      business_hours: readHours(),
      first_response_minutes: minutes,
    });
    showHours(saved.business_hours, saved.shop_timezone);
    say($("desk-message"), t("admin.saved"), "success");
  } catch (error) {
    say($("desk-message"), errorText(error), "critical");
  }
}

function form() {
  const root = $("saved-form");
  return {
    locale: root.querySelector('[name="locale"]'),
    title: root.querySelector('[name="title"]'),
    body: root.querySelector('[name="body"]'),
  };
}

function edit(reply) {
  editing = reply ? reply.id : null;
  const fields = form();
  fields.locale.value = reply ? reply.locale : document.body.dataset.locale;
  fields.title.value = reply ? reply.title : "";
  fields.body.value = reply ? reply.body : "";
  $("saved-form-heading").textContent = t(reply ? "admin.saved.edit" : "admin.saved.new");
  say($("saved-message"), "");
  if (reply) fields.title.focus();
}

async function loadSavedReplies() {
  const body = $("saved-replies");
  try {
    const { saved_replies: replies } = await api("GET", "/api/v1/saved-replies");
    if (!replies.length) {
      const only = cell(t("admin.saved.none"), "subdued");
      only.colSpan = 4;
      const row = document.createElement("tr");
      row.append(only);
      body.replaceChildren(row);
      return;
    }
    body.replaceChildren(
      ...replies.map((reply) => {
        const row = document.createElement("tr");
        row.dataset.savedReplyId = String(reply.id);
        const preview = cell(reply.body.length > 80 ? `${reply.body.slice(0, 80)}…` : reply.body, "preview");
        const change = button(t("admin.saved.edit"), () => edit(reply), { variant: "tertiary" });
        const remove = button(
          t("admin.saved.delete"),
          () =>
            busy(remove, async () => {
              try {
                await api("DELETE", `/api/v1/saved-replies/${encodeURIComponent(reply.id)}`);
                if (editing === reply.id) edit(null);
                await loadSavedReplies();
              } catch (error) {
                say($("saved-message"), errorText(error), "critical");
              }
            }),
          { tone: "critical", variant: "tertiary" },
        );
        const actions = cell(change);
        actions.append(remove);
        row.append(cell(t(`admin.language.${reply.locale}`)), cell(reply.title), preview, actions);
        return row;
      }),
    );
  } catch (error) {
    say($("saved-message"), errorText(error), "critical");
  }
}

async function saveSavedReply() {
  const fields = form();
  for (const input of [fields.title, fields.body]) {
    if (!input.checkValidity() || !input.value.trim()) {
      input.reportValidity();
      return;
    }
  }
  const payload = { locale: fields.locale.value, title: fields.title.value, body: fields.body.value };
  try {
    if (editing === null) await api("POST", "/api/v1/saved-replies", payload);
    else await api("PATCH", `/api/v1/saved-replies/${encodeURIComponent(editing)}`, payload);
    edit(null);
    say($("saved-message"), t("admin.saved"), "success");
    await loadSavedReplies();
  } catch (error) {
    say($("saved-message"), errorText(error), "critical");
  }
}

$("hours-on").addEventListener("change", () => {
  $("hours-fields").hidden = !$("hours-on").checked;
});
const saveDesk = document.querySelector('[data-action="save-desk"]');
saveDesk.addEventListener("click", () => busy(saveDesk, saveSettings));
const saveSaved = document.querySelector('[data-action="save-saved"]');
saveSaved.addEventListener("click", () => busy(saveSaved, saveSavedReply));
document.querySelector('[data-action="new-saved"]').addEventListener("click", () => edit(null));
loadSettings();
loadSavedReplies();
