// Embedded admin, order actions: who may do which action, the approval amount, the bot's self-service, and
// the audit list where an admin approves or refuses what waits, through /api/v1 with the session token.
import { busy, button, cell, say } from "./shell.js";
import { t, when } from "./i18n.js";
import { api, errorText } from "./session.js";

const $ = (role) => document.querySelector(`[data-role="${role}"]`);
const POLICY_URL = "/api/v1/order-action-policy";

function showPolicy(policy) {
  for (const row of document.querySelectorAll("[data-kind]")) {
    const roles = policy.roles[row.dataset.kind] || [];
    for (const role of ["admin", "agent"]) row.querySelector(`[name="${role}"]`).checked = roles.includes(role);
  }
  $("approval-amount").value = policy.approval_amount || "";
  $("approval-hours").value = policy.approval_hours;
  $("bot-cancel").checked = policy.bot_cancel;
  $("bot-address").checked = policy.bot_address;
  $("bot-window").value = policy.bot_window_minutes;
  const banner = $("scopes");
  banner.hidden = policy.missing_scopes.length === 0;
  banner.textContent = t("admin.actions.scopes_missing", { scopes: policy.missing_scopes.join(", ") });
}

function readPolicy() {
  const roles = {};
  for (const row of document.querySelectorAll("[data-kind]")) {
    roles[row.dataset.kind] = ["admin", "agent"].filter((role) => row.querySelector(`[name="${role}"]`).checked);
  }
  const amount = $("approval-amount").value.trim();
  return {
    roles,
    approval_amount: amount === "" ? null : amount,
    approval_hours: Number($("approval-hours").value),
    bot_cancel: $("bot-cancel").checked,
    bot_address: $("bot-address").checked,
    bot_window_minutes: Number($("bot-window").value),
  };
}

function row(action) {
  const tr = document.createElement("tr");
  tr.append(
    cell(when(action.created_at)),
    cell(action.summary),
    cell(t(`admin.actions.state.${action.status}`)),
    cell(action.events.map((event) => t(`admin.actions.event.${event.kind}`)).join(" → ")),
  );
  const decide = document.createElement("td");
  if (action.status === "awaiting_approval") {
    for (const approve of [true, false]) {
      decide.append(
        button(t(approve ? "admin.actions.approve" : "admin.actions.refuse"), async (event) => {
          await busy(event.currentTarget, async () => {
            try {
              await api("POST", `/api/v1/order-actions/${action.id}/decision`, { approve });
              await loadAudit();
            } catch (error) {
              say($("audit-message"), errorText(error), "critical");
            }
          });
        }),
      );
    }
  }
  tr.append(decide);
  return tr;
}

async function loadAudit() {
  const list = await api("GET", "/api/v1/order-actions");
  const body = $("audit");
  if (list.actions.length === 0) {
    const empty = document.createElement("tr");
    empty.append(cell(t("admin.actions.none"), "subdued"));
    empty.firstChild.colSpan = 5;
    body.replaceChildren(empty);
  } else {
    body.replaceChildren(...list.actions.map(row));
  }
}

async function start() {
  try {
    showPolicy(await api("GET", POLICY_URL));
    await loadAudit();
  } catch (error) {
    say($("policy-message"), errorText(error), "critical");
  }
  document.querySelector('[data-action="save-policy"]').addEventListener("click", async (event) => {
    await busy(event.currentTarget, async () => {
      try {
        showPolicy(await api("PUT", POLICY_URL, readPolicy()));
        say($("policy-message"), t("admin.actions.saved"), "success");
      } catch (error) {
        say($("policy-message"), errorText(error), "critical");
      }
    });
  });
}

start();
