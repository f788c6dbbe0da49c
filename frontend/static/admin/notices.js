// Embedded admin, notices: back-in-stock demand per product, the proactive rules (on/off, their days and
// a preview of each message in Japanese and English), quiet hours, the daily cap and the stock requests'
// lifetime. Text goes in with textContent only.
import { busy, say } from "./shell.js";
import { t } from "./i18n.js";
import { api, errorText } from "./session.js";

const errorBanner = document.querySelector('[data-role="error"]');
const rulesSection = document.querySelector('[data-role="rules"]');
const ruleList = rulesSection.querySelector('[data-role="rule-list"]');
const input = (name) => rulesSection.querySelector(`input[name="${name}"]`);

const clock = (minutes) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
const minutesOf = (value) => {
  const [hours, minutes] = value.split(":").map(Number);
  return hours * 60 + minutes;
};

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
}

function renderDemand(demand) {
  const table = document.querySelector('[data-role="demand-table"]');
  const body = table.querySelector("tbody");
  body.replaceChildren();
  for (const item of demand) {
    const row = document.createElement("tr");
    row.dataset.product = String(item.product_id);
    cell(row, item.title);
    cell(row, String(item.waiting));
    cell(row, String(item.pending));
    cell(row, String(item.notified));
    cell(row, item.available === null ? "—" : String(item.available));
    body.append(row);
  }
  table.hidden = demand.length === 0;
  document.querySelector('[data-role="demand-empty"]').hidden = demand.length !== 0;
}

function renderRules(state) {
  const locale = document.documentElement.lang === "ja" ? "ja" : "en";
  ruleList.replaceChildren();
  for (const rule of state.settings.rules) {
    const box = document.createElement("fieldset");
    box.dataset.rule = rule.rule;
    const legend = document.createElement("legend");
    legend.textContent = t(`admin.notices.rule.${rule.rule}`);
    const toggle = document.createElement("label");
    toggle.className = "check";
    const checkbox = document.createElement("input");
    checkbox.type = "checkbox";
    checkbox.name = "enabled";
    checkbox.checked = rule.enabled;
    toggle.append(checkbox, document.createTextNode(` ${t("admin.notices.rule.enabled")}`));
    const controls = document.createElement("div");
    controls.className = "field-grid";
    controls.append(toggle);
    box.append(legend, controls);
    if (rule.days_name) {
      const days = document.createElement("label");
      const number = document.createElement("input");
      number.type = "number";
      number.name = "days";
      number.min = "0";
      number.max = "60";
      number.value = String(rule.days);
      days.append(document.createTextNode(t(`admin.notices.rule.${rule.days_name}`)), number);
      controls.append(days);
    }
    const heading = document.createElement("strong");
    heading.textContent = t("admin.notices.rule.preview");
    const preview = document.createElement("blockquote");
    preview.className = "notice-preview";
    preview.dataset.role = "preview";
    preview.textContent = state.previews[rule.rule][locale];
    box.append(heading, preview);
    ruleList.append(box);
  }
  input("quiet_start").value = clock(state.settings.quiet_start_minutes);
  input("quiet_end").value = clock(state.settings.quiet_end_minutes);
  input("daily_cap").value = String(state.settings.daily_cap);
  input("subscription_days").value = String(state.settings.subscription_days);
  rulesSection.querySelector('[data-role="sent-today"]').textContent = t("admin.notices.sent_today", {
    count: state.sent_today,
  });
}

function render(state) {
  renderDemand(state.demand);
  renderRules(state);
}

async function load() {
  try {
    render(await api("GET", "/api/admin/notices"));
  } catch (error) {
    errorBanner.textContent = errorText(error);
    errorBanner.hidden = false;
  }
}

rulesSection.querySelector('[data-action="save-notices"]').addEventListener("click", (event) =>
  busy(event.currentTarget, async () => {
    const message = rulesSection.querySelector('[data-role="save-message"]');
    const rules = [...ruleList.querySelectorAll("fieldset")].map((box) => {
      const days = box.querySelector('input[name="days"]');
      return {
        rule: box.dataset.rule,
        enabled: box.querySelector('input[name="enabled"]').checked,
        days: days ? Number(days.value) : null,
      };
    });
    try {
      const state = await api("PUT", "/api/admin/notices", {
        rules,
        quiet_start_minutes: minutesOf(input("quiet_start").value),
        quiet_end_minutes: minutesOf(input("quiet_end").value),
        daily_cap: Number(input("daily_cap").value),
        subscription_days: Number(input("subscription_days").value),
      });
      render(state);
      say(message, t("admin.notices.saved"), "success");
    } catch (error) {
      say(message, t("admin.notices.error", { error: errorText(error) }), "critical");
    }
  }),
);

load();
