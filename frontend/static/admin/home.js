// Embedded admin home: the store's connection (status, access, permissions in words), the store data in
// one line, and the way to the other pages.
import "./shell.js";
import { t, word } from "./i18n.js";
import { api, errorText } from "./session.js";
import { pollSync, renderSummary } from "./sync_status.js";

const STATUS_TONES = { installed: "success", needs_reauth: "critical", uninstalled: "warning" };
const $ = (role) => document.querySelector(`[data-role="${role}"]`);

async function loadConnection() {
  const section = $("connection");
  try {
    const body = await api("GET", "/api/admin/shop");
    const status = section.querySelector('[data-field="status"]');
    status.textContent = word("admin.shop_status", body.status);
    status.setAttribute("tone", STATUS_TONES[body.status] || "info");
    section.querySelector('[data-field="access"]').textContent = t(
      body.has_access_token ? "admin.home.access_stored" : "admin.home.access_missing",
    );
    $("reauth").hidden = body.status !== "needs_reauth";
    $("uninstalled").hidden = body.status !== "uninstalled";
    const scopes = body.scopes || [];
    section.querySelector('[data-field="permissions-summary"]').textContent = t("admin.home.permissions", {
      count: scopes.length,
    });
    section.querySelector('[data-field="permissions"]').replaceChildren(
      ...scopes.map((scope) => {
        const item = document.createElement("li");
        item.textContent = word("admin.scope", scope);
        return item;
      }),
    );
    $("permissions").hidden = scopes.length === 0;
  } catch (error) {
    const banner = $("error");
    banner.textContent = errorText(error);
    banner.hidden = false;
  }
}

loadConnection();
const sync = $("sync");
pollSync(sync, (body) => renderSummary(sync, body), null);
