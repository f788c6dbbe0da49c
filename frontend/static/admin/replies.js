import { api } from "./session.js";
// Embedded admin: the bot's reply templates (per key and language) with a live preview against a real order,
// the per-intent auto-reply switches and the exact-stock-counts choice. All through /api/v1 with the App
// Bridge session token; text is inserted with textContent only.
const status = document.getElementById("status");
const PREVIEW_DELAY_MS = Number(status.dataset.previewDelayMs) || 300;
const INTENT_LABELS = { order_status: "Where is my order?", stock: "Is this in stock?" };
const $ = (role) => document.querySelector(`[data-role="${role}"]`);

function say(role, text, isError) {
  const line = $(role);
  line.hidden = !text;
  line.textContent = text || "";
  line.className = isError ? "error" : "muted";
}

// ---- settings

async function loadSettings() {
  const settings = await api("GET", "/api/v1/answer-settings");
  const box = $("switches");
  box.replaceChildren();
  for (const [intent, on] of Object.entries(settings.auto_reply)) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.checked = on;
    input.dataset.intent = intent;
    input.addEventListener("change", () => saveSettings({ auto_reply: { [intent]: input.checked } }, input));
    label.append(input, ` ${INTENT_LABELS[intent] || intent} — answer automatically`);
    box.append(label);
  }
  const exact = $("exact-stock");
  exact.checked = settings.exact_stock_counts;
  exact.onchange = () => saveSettings({ exact_stock_counts: exact.checked }, exact);
}

async function saveSettings(change, input) {
  input.disabled = true;
  try {
    await api("PUT", "/api/v1/answer-settings", change);
    say("settings-message", "Saved.");
    await loadPreview();
  } catch (error) {
    say("settings-message", error.message, true);
    if (input.type === "checkbox") input.checked = !input.checked;
  } finally {
    input.disabled = false;
  }
}

// ---- templates

let templates = [];
const keySelect = $("template-key");
const languageSelect = $("template-language");
const body = $("template-body");

function current() {
  return templates.find((t) => t.key === keySelect.value && t.language === languageSelect.value);
}

function showTemplate() {
  const template = current();
  body.value = template ? template.body : "";
  $("customised").hidden = !(template && template.customised);
  say("save-message", "");
  schedulePreview();
}

async function loadTemplates() {
  ({ templates } = await api("GET", "/api/v1/reply-templates"));
  const chosen = keySelect.value;
  const keys = [...new Set(templates.map((t) => t.key))];
  keySelect.replaceChildren(
    ...keys.map((key) => {
      const option = document.createElement("option");
      option.value = key;
      option.textContent = key.replaceAll("_", " ");
      return option;
    }),
  );
  if (chosen && keys.includes(chosen)) keySelect.value = chosen;
  showTemplate();
}

async function saveTemplate(text) {
  const key = encodeURIComponent(keySelect.value);
  const language = encodeURIComponent(languageSelect.value);
  try {
    await api("PUT", `/api/v1/reply-templates/${key}/${language}`, { body: text });
    await loadTemplates();
    say("save-message", "Saved.");
  } catch (error) {
    say("save-message", `Not saved: ${error.message}`, true);
  }
}

// ---- preview (debounced; a late answer never overwrites a newer one)

let previewTimer = 0;
let previewSeq = 0;

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(loadPreview, PREVIEW_DELAY_MS);
}

async function loadPreview() {
  const seq = ++previewSeq;
  if (!body.value.trim() || !keySelect.value) {
    $("preview").textContent = "";
    return;
  }
  const order = $("order").value;
  try {
    const { text } = await api("POST", "/api/v1/reply-templates/preview", {
      key: keySelect.value,
      language: languageSelect.value,
      body: body.value,
      order_id: order ? Number(order) : null,
    });
    if (seq !== previewSeq) return;
    $("preview").textContent = text;
    say("preview-error", "");
  } catch (error) {
    if (seq !== previewSeq) return;
    say("preview-error", error.message, true);
  }
}

// ---- orders to preview against

let orderTimer = 0;

async function loadOrders() {
  const query = $("order-search").value.trim();
  const select = $("order");
  const chosen = select.value;
  try {
    const { orders } = await api("GET", `/api/admin/orders?q=${encodeURIComponent(query)}`);
    const sample = document.createElement("option");
    sample.value = "";
    sample.textContent = "Sample data";
    select.replaceChildren(
      sample,
      ...orders.map((order) => {
        const option = document.createElement("option");
        option.value = String(order.id);
        option.textContent = order.name;
        return option;
      }),
    );
    if (orders.some((o) => String(o.id) === chosen)) select.value = chosen;
    else if (query && orders.length) select.value = String(orders[0].id);
    schedulePreview();
  } catch (error) {
    say("preview-error", error.message, true);
  }
}

keySelect.addEventListener("change", showTemplate);
languageSelect.addEventListener("change", showTemplate);
body.addEventListener("input", schedulePreview);
$("order").addEventListener("change", schedulePreview);
$("order-search").addEventListener("input", () => {
  clearTimeout(orderTimer);
  orderTimer = setTimeout(loadOrders, PREVIEW_DELAY_MS);
});
$("save").addEventListener("click", () => saveTemplate(body.value));
$("reset").addEventListener("click", () => {
  const template = current();
  if (template) saveTemplate(template.default_body);
});

Promise.all([loadSettings(), loadTemplates(), loadOrders()]).catch((error) => say("settings-message", error.message, true));
