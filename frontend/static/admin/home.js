import { sessionToken } from "./session.js";
// Embedded admin home: reads the installation status with a session token.
// With App Bridge loaded, shopify.idToken() gives a fresh token; without it, the id_token of the first load.
const root = document.getElementById("status");

async function authorisedFetch(url) {
  const token = await sessionToken();
  return fetch(url, { headers: { Authorization: `Bearer ${token}` } });
}

function show(field, text) {
  root.querySelector(`[data-field="${field}"]`).textContent = text;
}

async function load() {
  const message = root.querySelector('[data-role="message"]');
  const response = await authorisedFetch(root.dataset.statusUrl);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    message.textContent = body.error ? body.error.message : `Error ${response.status}`;
    message.className = "error";
    return;
  }
  message.hidden = true;
  root.querySelector('[data-role="details"]').hidden = false;
  show("shop", body.shop);
  show("status", body.status);
  show("token", body.has_access_token ? "stored (encrypted)" : "missing");
  show("api_version", body.api_version);
  show("scopes", body.scopes.join(", "));
  show("topics", body.webhook_topics.join(", "));
  const list = document.querySelector('[data-role="exports"]');
  if (body.data_exports.length) {
    list.replaceChildren(
      ...body.data_exports.map((item) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = `Export ${item.id} (${new Date(item.created_at).toLocaleString()})`;
        button.addEventListener("click", () => download(item.id));
        li.append(button);
        return li;
      }),
    );
  }
}

async function download(id) {
  const response = await authorisedFetch(`/api/admin/data-exports/${encodeURIComponent(id)}`);
  if (!response.ok) return;
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `customer-data-export-${id}.json`;
  link.click();
  URL.revokeObjectURL(link.href);
}

load();
