// Embedded admin, LINE: the connection's state, the webhook address to paste into LINE Developers, a check
// against LINE, and the form that connects or replaces the channel (secrets are sent, never shown again).
// Text goes in with textContent only.
import { busy, say } from "./shell.js";
import { t, when } from "./i18n.js";
import { api, errorText } from "./session.js";

const status = document.querySelector('[data-role="line-status"]');
const errorBanner = document.querySelector('[data-role="error"]');
const field = (name) => status.querySelector(`[data-field="${name}"]`);

function render(body) {
  const state = !body.connected ? "not_connected" : body.enabled ? "connected" : "disabled";
  field("state").textContent = t(`admin.line.state_${state}`);
  field("channel_id").textContent = body.channel_id || "—";
  field("bot_name").textContent = body.bot_name || "—";
  field("last_check").textContent = body.last_check
    ? `${t(`admin.line.check_${body.last_check}`)} (${when(body.last_checked_at)})`
    : "—";
  field("webhook_url").value = body.webhook_url || "";
  status.querySelector('[data-action="check-line"]').hidden = !body.connected;
}

async function load() {
  try {
    render(await api("GET", "/api/admin/line"));
  } catch (error) {
    errorBanner.textContent = errorText(error);
    errorBanner.hidden = false;
  }
}

status.querySelector('[data-action="check-line"]').addEventListener("click", (event) =>
  busy(event.currentTarget, async () => {
    const message = status.querySelector('[data-role="check-message"]');
    try {
      const body = await api("POST", "/api/admin/line/check");
      say(message, t(`admin.line.check_${body.result}`), body.result === "ok" ? "success" : "critical");
      render(body.connection);
    } catch (error) {
      say(message, errorText(error), "critical");
    }
  }),
);

const form = document.querySelector('[data-role="connect-line"]');
form.querySelector('[data-action="connect-line"]').addEventListener("click", (event) =>
  busy(event.currentTarget, async () => {
    const message = document.querySelector('[data-role="connect-message"]');
    const values = Object.fromEntries([...form.querySelectorAll("input")].map((input) => [input.name, input.value]));
    try {
      const body = await api("PUT", "/api/admin/line", values);
      for (const input of form.querySelectorAll('input[type="password"]')) input.value = "";
      say(message, t(`admin.line.check_${body.result}`), body.result === "ok" ? "success" : "critical");
      render(body.connection);
    } catch (error) {
      say(message, errorText(error), "critical");
    }
  }),
);

load();
