import { api } from "./session.js";
// Embedded admin: the shop's agents and API keys, through /api/v1 with the App Bridge session token.

function say(role, text, isError) {
  const line = document.querySelector(`[data-role="${role}"]`);
  line.hidden = !text;
  line.textContent = text || "";
  line.className = isError ? "error" : "muted";
}

function item(text, buttonLabel, onClick) {
  const li = document.createElement("li");
  li.append(document.createTextNode(text));
  if (buttonLabel) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = buttonLabel;
    button.addEventListener("click", onClick);
    li.append(" ", button);
  }
  return li;
}

async function loadAgents() {
  const list = document.querySelector('[data-role="agents"]');
  try {
    const { agents } = await api("GET", "/api/v1/agents");
    list.replaceChildren(
      ...(agents.length
        ? agents.map((a) =>
            item(`${a.name} <${a.email}> · ${a.role}`, "Remove", async () => {
              try {
                await api("DELETE", `/api/v1/agents/${encodeURIComponent(a.id)}`);
                await loadAgents();
              } catch (error) {
                say("team-message", error.message, true);
              }
            }),
          )
        : [item("No agents yet.")]),
    );
  } catch (error) {
    say("team-message", error.message, true);
  }
}

async function loadKeys() {
  const list = document.querySelector('[data-role="keys"]');
  try {
    const { api_keys: keys } = await api("GET", "/api/v1/api-keys");
    list.replaceChildren(
      ...(keys.length
        ? keys.map((k) => {
            const state = k.revoked_at ? "revoked" : k.last_used_at ? `last used ${new Date(k.last_used_at).toLocaleString()}` : "never used";
            const text = `${k.name} · ${k.prefix}… · ${k.trusted ? "trusted · " : ""}${state}`;
            return k.revoked_at
              ? item(text)
              : item(text, "Revoke", async () => {
                  await api("DELETE", `/api/v1/api-keys/${encodeURIComponent(k.id)}`);
                  await loadKeys();
                });
          })
        : [item("No keys yet.")]),
    );
  } catch (error) {
    say("keys-message", error.message, true);
  }
}

document.querySelector('[data-role="add-agent"]').addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await api("POST", "/api/v1/agents", {
      email: form.get("email"),
      name: form.get("name") || "",
      password: form.get("password") || null,
      role: form.get("role"),
      locale: form.get("locale"),
    });
    event.target.reset();
    say("team-message", "");
    await loadAgents();
  } catch (error) {
    say("team-message", error.message, true);
  }
});

document.querySelector('[data-role="add-key"]').addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const created = await api("POST", "/api/v1/api-keys", { name: form.get("name"), trusted: form.get("trusted") === "on" });
    event.target.reset();
    const shown = document.querySelector('[data-role="new-key"]');
    shown.hidden = false;
    shown.querySelector('[data-field="key"]').textContent = created.key;
    say("keys-message", "");
    await loadKeys();
  } catch (error) {
    say("keys-message", error.message, true);
  }
});

loadAgents();
loadKeys();
