// Embedded admin, FAQ: the shop's FAQ entries (questions and answers in Japanese and English, each switched
// on or off), the policies mirrored from Shopify, a "try it" box showing what the bot would answer and
// why, and the return window (prefilled from what the refund policy says). Text goes in with textContent only.
import { busy, button, cell, say } from "./shell.js";
import { has, t, when } from "./i18n.js";
import { api, errorText } from "./session.js";

const $ = (role) => document.querySelector(`[data-role="${role}"]`);
let editing = null; // the id of the entry in the form, or null for a new one

const lines = (text) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);

function form() {
  const root = $("faq-form");
  const field = (name) => root.querySelector(`[name="${name}"]`);
  return {
    questions_ja: field("questions_ja"),
    questions_en: field("questions_en"),
    answer_ja: field("answer_ja"),
    answer_en: field("answer_en"),
    link: field("link"),
    enabled: field("enabled"),
  };
}

function edit(entry) {
  editing = entry ? entry.id : null;
  const fields = form();
  fields.questions_ja.value = entry ? entry.questions_ja.join("\n") : "";
  fields.questions_en.value = entry ? entry.questions_en.join("\n") : "";
  fields.answer_ja.value = entry ? entry.answer_ja : "";
  fields.answer_en.value = entry ? entry.answer_en : "";
  fields.link.value = entry && entry.link ? entry.link : "";
  fields.enabled.checked = entry ? entry.enabled : true;
  $("faq-form-heading").textContent = t(entry ? "admin.faq.edit" : "admin.faq.new");
  say($("faq-message"), "");
  if (entry) fields.questions_ja.focus();
}

function entryRow(entry) {
  const row = document.createElement("tr");
  row.dataset.faqEntryId = String(entry.id);
  const questions = [...entry.questions_ja, ...entry.questions_en];
  const answer = entry.answer_ja || entry.answer_en;
  const toggle = document.createElement("input");
  toggle.type = "checkbox";
  toggle.checked = entry.enabled;
  toggle.setAttribute("aria-label", t("admin.faq.enabled"));
  toggle.addEventListener("change", async () => {
    try {
      await api("PUT", `/api/admin/faq/${encodeURIComponent(entry.id)}/enabled`, { enabled: toggle.checked });
      entry.enabled = toggle.checked;
    } catch (error) {
      toggle.checked = !toggle.checked;
      say($("faq-message"), errorText(error), "critical");
    }
  });
  const change = button(t("admin.faq.edit"), () => edit(entry), { variant: "tertiary" });
  const remove = button(
    t("admin.faq.delete"),
    () =>
      busy(remove, async () => {
        try {
          await api("DELETE", `/api/admin/faq/${encodeURIComponent(entry.id)}`);
          if (editing === entry.id) edit(null);
          await load();
        } catch (error) {
          say($("faq-message"), errorText(error), "critical");
        }
      }),
    { tone: "critical", variant: "tertiary" },
  );
  const actions = cell(change);
  actions.append(remove);
  row.append(
    cell(questions.join(" / ")),
    cell(answer.length > 80 ? `${answer.slice(0, 80)}…` : answer, "preview"),
    cell(toggle),
    actions,
  );
  return row;
}

function showPolicies(policies) {
  const list = $("policies");
  if (!policies.length) {
    const only = document.createElement("li");
    only.className = "subdued";
    only.textContent = t("admin.faq.no_policies");
    list.replaceChildren(only);
    return;
  }
  list.replaceChildren(
    ...policies.map((policy) => {
      const item = document.createElement("li");
      item.textContent = `${policy.title} (${when(policy.updated_at)})`;
      return item;
    }),
  );
}

function showReturnWindow(setting) {
  const detected = $("return-window-detected");
  detected.textContent = setting.detected_days
    ? t("admin.faq.return_window_detected", { days: setting.detected_days, source: setting.detected_from, text: setting.detected_text })
    : t("admin.faq.return_window_not_detected");
  const field = $("return-window-days");
  // the merchant's number; before they set one, the policy's as a suggestion to confirm
  field.value = setting.days ?? setting.detected_days ?? "";
  say($("return-window-message"), setting.days === null ? t("admin.faq.return_window_unset") : "");
}

async function saveReturnWindow() {
  const raw = $("return-window-days").value.trim();
  try {
    const saved = await api("PUT", "/api/admin/faq/return-window", { days: raw ? Number(raw) : null });
    showReturnWindow(saved);
    say($("return-window-message"), t("admin.saved"), "success");
  } catch (error) {
    say($("return-window-message"), errorText(error), "critical");
  }
}

async function load() {
  try {
    const page = await api("GET", "/api/admin/faq");
    const body = $("faq-entries");
    if (!page.entries.length) {
      const only = cell(t("admin.faq.none"), "subdued");
      only.colSpan = 4;
      const row = document.createElement("tr");
      row.append(only);
      body.replaceChildren(row);
    } else {
      body.replaceChildren(...page.entries.map(entryRow));
    }
    showPolicies(page.policies);
    showReturnWindow(page.return_window);
  } catch (error) {
    $("error").textContent = errorText(error);
    $("error").hidden = false;
  }
}

async function save() {
  const fields = form();
  const payload = {
    questions_ja: lines(fields.questions_ja.value),
    questions_en: lines(fields.questions_en.value),
    answer_ja: fields.answer_ja.value,
    answer_en: fields.answer_en.value,
    link: fields.link.value.trim() || null,
    enabled: fields.enabled.checked,
  };
  try {
    if (editing === null) await api("POST", "/api/admin/faq", payload);
    else await api("PUT", `/api/admin/faq/${encodeURIComponent(editing)}`, payload);
    edit(null);
    say($("faq-message"), t("admin.saved"), "success");
    await load();
  } catch (error) {
    say($("faq-message"), errorText(error), "critical");
  }
}

async function tryIt() {
  const text = $("try-text").value.trim();
  if (!text) return;
  const result = $("try-result");
  try {
    const answer = await api("POST", "/api/admin/faq/try", { text });
    const field = (name) => result.querySelector(`[data-field="${name}"]`);
    field("action").textContent = t(`admin.faq.action_${answer.action}`);
    field("reply").textContent = answer.reply || "—";
    const intent = has(`admin.intent.${answer.intent}`) ? t(`admin.intent.${answer.intent}`) : answer.intent;
    field("reason").textContent = `${t(`admin.faq.reason.${answer.reason_code}`)} · ${intent} (${answer.confidence.toFixed(2)}) · ${answer.reason}`;
    $("try-matches").replaceChildren(
      ...answer.matches.map((match) => {
        const row = document.createElement("tr");
        const score = `${match.score.toFixed(2)} · ${Math.round(match.coverage * 100)}%${match.confident ? " ✓" : ""}`;
        row.append(cell(`${match.title} [${match.source}]`), cell(match.quote, "preview"), cell(score));
        return row;
      }),
    );
    result.hidden = false;
  } catch (error) {
    say($("faq-message"), errorText(error), "critical");
  }
}

const saveButton = document.querySelector('[data-action="save-faq"]');
saveButton.addEventListener("click", () => busy(saveButton, save));
document.querySelector('[data-action="new-faq"]').addEventListener("click", () => edit(null));
const windowButton = document.querySelector('[data-action="save-return-window"]');
windowButton.addEventListener("click", () => busy(windowButton, saveReturnWindow));
const tryButton = document.querySelector('[data-action="try"]');
tryButton.addEventListener("click", () => busy(tryButton, tryIt));
$("try-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter") busy(tryButton, tryIt);
});
load();
