// Embedded admin, Connectors: one section per helpdesk (Chatwoot, Zendesk) built from the fields the
// server lists: its state, the addresses to paste into the helpdesk, test connection, pause/resume, and
// the form (a secret is sent, never shown again; left empty it keeps the stored one).
// Text goes in with textContent only.
import { busy, say, usable } from "./shell.js";
import { t, when } from "./i18n.js";
import { api, errorText } from "./session.js";

const root = document.querySelector('[data-role="connectors"]');
const template = document.querySelector('[data-role="connector-template"]');
const errorBanner = document.querySelector('[data-role="error"]');

function render(section, state) {
  const vendor = state.vendor;
  const connector = state.connector;
  const field = (name) => section.querySelector(`[data-field="${name}"]`);
  section.setAttribute("heading", t(`admin.connectors.${vendor}.title`));
  section.dataset.vendor = vendor;
  field("help").textContent = t(`admin.connectors.${vendor}.help`);
  const status = !connector.connected ? "not_connected" : connector.paused ? "paused" : "connected";
  field("state").textContent = t(`admin.connectors.state_${status}`);
  field("last_check").textContent = connector.last_check
    ? `${t(`admin.connectors.check_${connector.last_check}`)} (${when(connector.last_checked_at)})`
    : "—";
  const urls = section.querySelector('[data-role="urls"]');
  urls.replaceChildren();
  for (const [name, value] of Object.entries(connector.urls || {})) {
    const label = document.createElement("label");
    label.textContent = t(`admin.connectors.${vendor}.url_${name}`);
    const input = document.createElement("input");
    input.readOnly = true;
    input.value = value;
    input.dataset.url = name;
    label.append(input);
    urls.append(label);
  }
  section.querySelector('[data-action="check"]').hidden = !connector.connected;
  section.querySelector('[data-action="pause"]').hidden = !connector.connected || connector.paused;
  section.querySelector('[data-action="resume"]').hidden = !connector.connected || !connector.paused;
  const form = section.querySelector('[data-role="form"]');
  if (!form.childElementCount) {
    for (const spec of state.fields) {
      const label = document.createElement("label");
      label.textContent = t(`admin.connectors.${vendor}.${spec.name}`);
      const input = document.createElement("input");
      input.name = spec.name;
      input.maxLength = spec.max_chars;
      input.autocomplete = "off";
      input.type = spec.kind === "secret" ? "password" : spec.kind === "url" ? "url" : "text";
      label.append(input);
      form.append(label);
    }
  }
  for (const input of form.querySelectorAll("input")) {
    if (input.type === "password") {
      const set = (connector.secrets_set || []).includes(input.name) && connector.connected;
      input.placeholder = set ? t("admin.connectors.secret_kept") : "";
    } else if (connector.connected && !input.value) {
      input.value = input.name in connector ? connector[input.name] : (connector.settings || {})[input.name] || "";
    }
  }
}

function wire(section) {
  const message = section.querySelector('[data-role="message"]');
  const vendor = () => section.dataset.vendor;
  const report = (body) => {
    say(message, t(`admin.connectors.check_${body.result}`), body.result === "ok" ? "success" : "critical");
    render(section, body);
  };
  section.querySelector('[data-action="check"]').addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      try {
        report(await api("POST", `/api/admin/connectors/${vendor()}/check`));
      } catch (error) {
        say(message, errorText(error), "critical");
      }
    }),
  );
  for (const [action, paused] of [["pause", true], ["resume", false]]) {
    section.querySelector(`[data-action="${action}"]`).addEventListener("click", (event) =>
      busy(event.currentTarget, async () => {
        try {
          render(section, await api("POST", `/api/admin/connectors/${vendor()}/pause`, { paused }));
          say(message, t(`admin.connectors.${action}d`), "success");
        } catch (error) {
          say(message, errorText(error), "critical");
        }
      }),
    );
  }
  section.querySelector('[data-action="save"]').addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      const form = section.querySelector('[data-role="form"]');
      const values = Object.fromEntries([...form.querySelectorAll("input")].map((input) => [input.name, input.value]));
      try {
        const body = await api("PUT", `/api/admin/connectors/${vendor()}`, values);
        for (const input of form.querySelectorAll('input[type="password"]')) input.value = "";
        report(body);
      } catch (error) {
        say(message, errorText(error), "critical");
      }
    }),
  );
}

async function load() {
  try {
    const body = await api("GET", root.dataset.url);
    root.replaceChildren();
    for (const state of body.connectors) {
      const section = template.content.firstElementChild.cloneNode(true);
      root.append(section);
      for (const button of section.querySelectorAll("s-button")) usable(button);
      render(section, state);
      wire(section);
    }
  } catch (error) {
    errorBanner.textContent = errorText(error);
    errorBanner.hidden = false;
  }
}

load();
