// Embedded admin, email: the shop's support address and the relay its replies leave through.
import { busy, say } from "./shell.js";
import { t } from "./i18n.js";
import { api, errorText } from "./session.js";

const $ = (role) => document.querySelector(`[data-role="${role}"]`);
const group = $("email-settings");
const field = (name) => group.querySelector(`[name="${name}"]`);

function show(settings) {
  field("support_address").value = settings.support_address || "";
  field("relay_host").value = settings.relay_host || "";
  field("relay_port").value = String(settings.relay_port);
  field("relay_starttls").checked = settings.relay_starttls;
  field("relay_username").value = settings.relay_username || "";
  field("relay_password").value = "";
  $("password-kept").hidden = !settings.relay_password_kept;
  const example = $("reply-example");
  example.hidden = !settings.reply_address_example;
  example.textContent = settings.reply_address_example
    ? t("admin.email.reply_example", { address: settings.reply_address_example })
    : "";
  $("listener").textContent = t("admin.email.listener", { port: settings.listener_port });
}

async function load() {
  try {
    show(await api("GET", "/api/admin/email"));
  } catch (error) {
    say($("email-message"), errorText(error), "critical");
  }
}

async function save() {
  const invalid = [...group.querySelectorAll("input")].find((input) => !input.checkValidity());
  if (invalid) {
    invalid.reportValidity();
    return;
  }
  const password = field("relay_password").value;
  try {
    show(
      await api("PUT", "/api/admin/email", {
        support_address: field("support_address").value,
        relay_host: field("relay_host").value || null,
        relay_port: Number(field("relay_port").value || 587),
        relay_starttls: field("relay_starttls").checked,
        relay_username: field("relay_username").value || null,
        relay_password: password === "" ? null : password,
      }),
    );
    say($("email-message"), t("admin.email.saved"), "success");
  } catch (error) {
    say($("email-message"), errorText(error), "critical");
  }
}

async function check() {
  try {
    const result = await api("POST", "/api/admin/email/check");
    if (result.ok) say($("email-message"), t("admin.email.check_ok"), "success");
    else say($("email-message"), t(`admin.email.problem.${result.problem}`), "critical");
  } catch (error) {
    say($("email-message"), errorText(error), "critical");
  }
}

const saveButton = group.querySelector('[data-action="save-email"]');
const checkButton = group.querySelector('[data-action="check-relay"]');
saveButton.addEventListener("click", () => busy(saveButton, save));
checkButton.addEventListener("click", () => busy(checkButton, check));
load();
