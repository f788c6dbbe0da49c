import { sessionToken } from "./session.js";
// Embedded admin: the store mirror's sync progress, polled while a sync runs. Text goes in with
// textContent only, so nothing the API returns is interpreted as markup.
const root = document.getElementById("sync");
const pollMs = Number(root.dataset.pollMs) || 1500;
const idlePollMs = 15000;

function show(field, text) {
  root.querySelector(`[data-field="${field}"]`).textContent = text;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "never";
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return `about ${Math.ceil(seconds)} s left`;
  if (seconds < 3600) return `about ${Math.ceil(seconds / 60)} min left`;
  return `about ${(seconds / 3600).toFixed(1)} h left`;
}

function render(body) {
  const resources = Object.entries(body.resources || {});
  let done = 0;
  let total = 0;
  const rows = resources.map(([name, entry]) => {
    done += entry.done;
    total += entry.total ?? entry.done;
    const row = document.createElement("tr");
    for (const text of [name, String(entry.done), entry.total === null ? "…" : String(entry.total)]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  root.querySelector('[data-role="sync-resources"]').replaceChildren(...rows);
  const bar = root.querySelector('[data-role="sync-bar"]');
  bar.max = Math.max(total, 1);
  bar.value = Math.min(done, bar.max);
  const rate = body.rate_per_second ? ` · ${body.rate_per_second.toFixed(1)} records/s` : "";
  show("phase", body.running ? `${body.phase}${rate}` : body.backfill_complete ? "Up to date" : body.phase);
  show("eta", body.running ? duration(body.eta_seconds) : "");
  show("last_error", body.last_error || "none");
  show("last_webhook_at", when(body.last_webhook_at));
  show("last_reconciled_at", when(body.last_reconciled_at));
}

async function poll() {
  const message = root.querySelector('[data-role="sync-message"]');
  let running = false;
  try {
    const token = await sessionToken();
    const response = await fetch(root.dataset.syncUrl, { headers: { Authorization: `Bearer ${token}` } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      message.textContent = body.error ? body.error.message : `Error ${response.status}`;
      message.className = "error";
    } else {
      message.hidden = true;
      root.querySelector('[data-role="sync-details"]').hidden = false;
      render(body);
      running = body.running;
    }
  } catch (error) {
    console.warn("sync status unavailable", error);
  }
  setTimeout(poll, running ? pollMs : idlePollMs);
}

poll();
