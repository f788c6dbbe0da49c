// Embedded admin, Insights: the figures are drawn on the server (SVG charts with their numbers a click
// away, every user text escaped there by the template engine); this script asks for them with the session
// token for the chosen range and filters, shows them, and downloads the CSV of the same query.
import { busy, say } from "./shell.js";
import { t } from "./i18n.js";
import { authorized, download, errorText } from "./session.js";

const $ = (role) => document.querySelector(`[data-role="${role}"]`);
const form = $("filters");
const target = $("insights");
const message = $("insights-message");

function localDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function query() {
  const data = new FormData(form);
  const params = new URLSearchParams();
  const days = Number(data.get("days") || 30);
  const end = new Date();
  const start = new Date(end.getTime() - (days - 1) * 86400000);
  params.set("start", localDay(start));
  params.set("end", localDay(end));
  for (const name of ["channel", "intent", "language", "agent"]) {
    const value = String(data.get(name) || "").trim();
    if (value) params.set(name, value);
  }
  params.set("locale", document.body.dataset.locale || "en");
  return params;
}

async function load() {
  say(message, "");
  try {
    const response = await authorized(`/api/admin/insights?${query()}`);
    const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
    target.replaceChildren(...Array.from(parsed.body.childNodes).map((node) => document.adoptNode(node)));
  } catch (error) {
    say(message, errorText(error), "critical");
  }
}

async function downloadCsv() {
  try {
    const params = query();
    params.delete("locale");
    await download(`/api/v1/insights.csv?${params}`, `insights-${params.get("start")}-${params.get("end")}.csv`);
    say(message, t("admin.insights.csv_done"));
  } catch (error) {
    say(message, errorText(error), "critical");
  }
}

const apply = document.querySelector('[data-action="apply"]');
apply.addEventListener("click", () => busy(apply, load));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(apply, load);
});
const csv = document.querySelector('[data-action="csv"]');
csv.addEventListener("click", () => busy(csv, downloadCsv));
load();
