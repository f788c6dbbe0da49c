// Embedded admin, team: the shop's agents and API keys, through /api/v1 with the session token.
import { badge, busy, button, cell, say } from "./shell.js";
import { t, when } from "./i18n.js";
import { api, errorText } from "./session.js";

const $ = (role) => document.querySelector(`[data-role="${role}"]`);

function emptyRow(text) {
  const row = document.createElement("tr");
  const only = cell(text, "subdued");
  only.colSpan = 4;
  row.append(only);
  return row;
}

async function loadAgents() {
  const body = $("agents");
  try {
    const { agents } = await api("GET", "/api/v1/agents");
    body.replaceChildren(
      ...(agents.length
        ? agents.map((agent) => {
            const row = document.createElement("tr");
            row.dataset.agentId = String(agent.id);
            const remove = button(
              t("admin.team.remove"),
              () =>
                busy(remove, async () => {
                  try {
                    await api("DELETE", `/api/v1/agents/${encodeURIComponent(agent.id)}`);
                    say($("team-message"), "");
                    await loadAgents();
                  } catch (error) {
                    say($("team-message"), errorText(error), "critical");
                  }
                }),
              { tone: "critical", variant: "tertiary" },
            );
            row.append(
              cell(agent.name),
              cell(agent.email),
              cell(badge(t(agent.role === "admin" ? "admin.team.role_admin" : "admin.team.role_agent"))),
              cell(remove),
            );
            return row;
          })
        : [emptyRow(t("admin.team.none"))]),
    );
  } catch (error) {
    body.replaceChildren(emptyRow(""));
    say($("team-message"), errorText(error), "critical");
  }
}

async function loadKeys() {
  const body = $("keys");
  try {
    const { api_keys: keys } = await api("GET", "/api/v1/api-keys");
    body.replaceChildren(
      ...(keys.length
        ? keys.map((key) => {
            const row = document.createElement("tr");
            const name = cell(key.name);
            if (key.trusted) name.append(" ", badge(t("admin.keys.trusted_badge"), "info"));
            const code = document.createElement("code");
            code.textContent = `${key.prefix}…`;
            const action = key.revoked_at
              ? badge(t("admin.keys.revoked"))
              : button(
                  t("admin.keys.revoke"),
                  () =>
                    busy(action, async () => {
                      try {
                        await api("DELETE", `/api/v1/api-keys/${encodeURIComponent(key.id)}`);
                        await loadKeys();
                      } catch (error) {
                        say($("keys-message"), errorText(error), "critical");
                      }
                    }),
                  { tone: "critical", variant: "tertiary" },
                );
            row.append(name, cell(code), cell(when(key.last_used_at)), cell(action));
            return row;
          })
        : [emptyRow(t("admin.keys.none"))]),
    );
  } catch (error) {
    body.replaceChildren(emptyRow(""));
    say($("keys-message"), errorText(error), "critical");
  }
}

// A group of fields sent by its button or by Enter in one of its fields (no <form>: Polaris buttons and
// the browser's own form submission must never both send it).
function onSend(group, send) {
  const trigger = group.querySelector("s-button[data-action]");
  const run = () => {
    const fields = [...group.querySelectorAll("input, select")];
    const invalid = fields.find((field) => !field.checkValidity());
    if (invalid) {
      invalid.reportValidity();
      return;
    }
    busy(trigger, () => send(Object.fromEntries(fields.map((field) => [field.name, field.type === "checkbox" ? field.checked : field.value]))));
  };
  trigger.addEventListener("click", () => {
    if (!trigger.hasAttribute("disabled")) run();
  });
  group.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("input")) {
      event.preventDefault();
      run();
    }
  });
}

function clear(group) {
  for (const field of group.querySelectorAll("input")) {
    if (field.type === "checkbox") field.checked = false;
    else field.value = "";
  }
}

onSend($("add-agent"), async (fields) => {
  try {
    await api("POST", "/api/v1/agents", {
      email: fields.email,
      name: fields.name || "",
      password: fields.password || null,
      role: fields.role,
      locale: fields.locale,
    });
    clear($("add-agent"));
    say($("team-message"), t("admin.team.added", { name: fields.name || fields.email }), "success");
    await loadAgents();
  } catch (error) {
    say($("team-message"), errorText(error), "critical");
  }
});

onSend($("add-key"), async (fields) => {
  try {
    const created = await api("POST", "/api/v1/api-keys", { name: fields.name, trusted: fields.trusted });
    clear($("add-key"));
    const shown = $("new-key");
    shown.querySelector('[data-field="key"]').textContent = created.key;
    shown.hidden = false;
    say($("keys-message"), "");
    await loadKeys();
  } catch (error) {
    say($("keys-message"), errorText(error), "critical");
  }
});

loadAgents();
loadKeys();
