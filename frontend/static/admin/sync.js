// Embedded admin, store data: the import's progress per kind of record, the last change and check, and
// the customers' data requests to download. Text goes in with textContent only.
import { button, cell } from "./shell.js";
import { number, t, when, word } from "./i18n.js";
import { api, download, errorText } from "./session.js";
import { pollSync, renderSummary, show } from "./sync_status.js";

const root = document.querySelector('[data-role="sync"]');
const errorBanner = document.querySelector('[data-role="error"]');

function render(body) {
  renderSummary(root, body);
  const rows = Object.entries(body.resources || {}).map(([name, entry]) => {
    const row = document.createElement("tr");
    row.dataset.resource = name;
    row.append(
      cell(word("admin.resource", name)),
      cell(number(entry.done), "number"),
      cell(entry.total === null || entry.total === undefined ? t("admin.sync.counting") : number(entry.total), "number"),
    );
    return row;
  });
  root.querySelector('[data-role="sync-resources"]').replaceChildren(...rows);
  show(root, "last_webhook_at", when(body.last_webhook_at));
  show(root, "last_reconciled_at", when(body.last_reconciled_at));
  show(root, "last_error", body.last_error || t("admin.sync.no_problem"));
}

async function loadExports() {
  const list = document.querySelector('[data-role="exports"]');
  try {
    const { data_exports: exports } = await api("GET", "/api/admin/shop");
    if (!exports.length) {
      const none = document.createElement("li");
      none.className = "subdued";
      none.textContent = t("admin.exports.none");
      list.replaceChildren(none);
      return;
    }
    list.replaceChildren(
      ...exports.map((item) => {
        const li = document.createElement("li");
        const label = document.createElement("span");
        label.textContent = t("admin.exports.item", { date: when(item.created_at) });
        const save = button(t("admin.exports.download"), () =>
          download(`/api/admin/data-exports/${encodeURIComponent(item.id)}`, `customer-data-export-${item.id}.json`).catch(
            (error) => {
              errorBanner.textContent = errorText(error);
              errorBanner.hidden = false;
            },
          ),
        );
        li.append(label, save);
        return li;
      }),
    );
  } catch (error) {
    list.replaceChildren();
    errorBanner.textContent = errorText(error);
    errorBanner.hidden = false;
  }
}

pollSync(root, render, errorBanner);
loadExports();
