// The store mirror's state in words, for the home page's summary and the store data page: polled often
// while an import runs, rarely otherwise.
import { number, t, when, word } from "./i18n.js";
import { ApiError, api, errorText } from "./session.js";

const IDLE_POLL_MS = 15000;

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return t("admin.sync.eta_seconds", { count: Math.max(1, Math.ceil(seconds)) });
  if (seconds < 3600) return t("admin.sync.eta_minutes", { count: Math.ceil(seconds / 60) });
  return t("admin.sync.eta_hours", { count: (seconds / 3600).toFixed(1) });
}

export function totals(body) {
  let done = 0;
  let total = 0;
  for (const entry of Object.values(body.resources || {})) {
    done += entry.done;
    total += entry.total ?? entry.done;
  }
  return { done, total };
}

// The badge (words and tone), the line beside it and the time left.
export function summary(body) {
  const { done, total } = totals(body);
  if (body.running) {
    const rate = body.rate_per_second ? ` · ${t("admin.sync.rate", { rate: number(body.rate_per_second.toFixed(1)) })}` : "";
    return {
      badge: word("admin.sync.phase", body.phase),
      tone: "info",
      text: total ? t("admin.sync.progress", { done: number(done), total: number(total) }) + rate : rate.slice(3),
      eta: duration(body.eta_seconds),
    };
  }
  if (body.phase === "failed") return { badge: word("admin.sync.phase", "failed"), tone: "critical", text: "", eta: "" };
  if (body.backfill_complete) return { badge: t("admin.sync.up_to_date"), tone: "success", text: "", eta: "" };
  return { badge: t("admin.sync.waiting"), tone: "warning", text: "", eta: "" };
}

export function show(root, field, text) {
  const element = root.querySelector(`[data-field="${field}"]`);
  if (element) element.textContent = text;
}

export function renderSummary(root, body) {
  const words = summary(body);
  const badge = root.querySelector('[data-field="sync-badge"]');
  badge.textContent = words.badge;
  badge.setAttribute("tone", words.tone);
  show(root, "sync-text", words.text);
  show(root, "sync-eta", words.eta);
  show(root, "sync-last", t("admin.sync.last_webhook_line", { when: when(body.last_webhook_at) }));
  const bar = root.querySelector('[data-role="sync-bar"]');
  const { done, total } = totals(body);
  bar.hidden = !body.running;
  bar.max = Math.max(total, 1);
  bar.value = Math.min(done, bar.max);
}

// Polls the sync state and hands each answer to render; a failed call is said in the error banner.
export function pollSync(root, render, errorBanner) {
  const pollMs = Number(root.dataset.pollMs) || 1500;
  async function poll() {
    let running = false;
    try {
      const body = await api("GET", root.dataset.syncUrl);
      if (errorBanner) errorBanner.hidden = true;
      render(body);
      running = body.running;
    } catch (error) {
      if (errorBanner) {
        errorBanner.textContent = errorText(error);
        errorBanner.hidden = false;
      }
      if (error instanceof ApiError && error.status === 401) return; // a new session is needed: stop
    }
    setTimeout(poll, running ? pollMs : IDLE_POLL_MS);
  }
  poll();
}
