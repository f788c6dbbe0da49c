// Embedded admin: the bot's replies in words. Which questions it answers by itself, the exact-stock-counts
// choice, and each reply's wording per language with a live preview against a real order. All through
// /api/v1 with the session token; text is inserted with textContent only.
import { busy, say } from "./shell.js";
import { t, word } from "./i18n.js";
import { api, errorText } from "./session.js";

const $ = (role) => document.querySelector(`[data-role="${role}"]`);
const PREVIEW_DELAY_MS = Number($("settings").dataset.previewDelayMs) || 300;
const GROUPS = ["order", "stock", "general"];

function groupOf(key) {
  if (key.startsWith("order_")) return "order";
  if (key.startsWith("stock_")) return "stock";
  return "general";
}

// ---- which questions the bot answers by itself

async function loadSettings() {
  const settings = await api("GET", "/api/v1/answer-settings");
  const box = $("switches");
  box.replaceChildren(
    ...Object.entries(settings.auto_reply).map(([intent, on]) => {
      const label = document.createElement("label");
      label.className = "check";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.checked = on;
      input.dataset.intent = intent;
      input.addEventListener("change", () => saveSettings({ auto_reply: { [intent]: input.checked } }, input));
      label.append(input, ` ${t("admin.replies.auto_switch", { question: word("admin.intent", intent) })}`);
      return label;
    }),
  );
  const exact = $("exact-stock");
  exact.checked = settings.exact_stock_counts;
  exact.onchange = () => saveSettings({ exact_stock_counts: exact.checked }, exact);
}

async function saveSettings(change, input) {
  input.disabled = true;
  try {
    await api("PUT", "/api/v1/answer-settings", change);
    say($("settings-message"), t("admin.saved"), "success");
    await loadPreview();
  } catch (error) {
    say($("settings-message"), errorText(error), "critical");
    input.checked = !input.checked;
  } finally {
    input.disabled = false;
  }
}

// ---- the replies' wording

let templates = [];
const keySelect = $("template-key");
const languageSelect = $("template-language");
const body = $("template-body");

function current() {
  return templates.find((each) => each.key === keySelect.value && each.language === languageSelect.value);
}

function showTemplate() {
  const template = current();
  body.value = template ? template.body : "";
  $("customised").hidden = !(template && template.customised);
  say($("save-message"), "");
  schedulePreview();
}

async function loadTemplates() {
  ({ templates } = await api("GET", "/api/v1/reply-templates"));
  const chosen = keySelect.value;
  const keys = [...new Set(templates.map((each) => each.key))];
  keySelect.replaceChildren(
    ...GROUPS.map((group) => {
      const optgroup = document.createElement("optgroup");
      optgroup.label = t(`admin.replies.group.${group}`);
      optgroup.append(
        ...keys
          .filter((key) => groupOf(key) === group)
          .map((key) => {
            const option = document.createElement("option");
            option.value = key;
            option.textContent = word("admin.template", key);
            return option;
          }),
      );
      return optgroup;
    }).filter((optgroup) => optgroup.children.length),
  );
  if (chosen && keys.includes(chosen)) keySelect.value = chosen;
  showTemplate();
}

async function saveTemplate(trigger, text) {
  const key = encodeURIComponent(keySelect.value);
  const language = encodeURIComponent(languageSelect.value);
  await busy(trigger, async () => {
    try {
      await api("PUT", `/api/v1/reply-templates/${key}/${language}`, { body: text });
      await loadTemplates();
      say($("save-message"), t("admin.saved"), "success");
    } catch (error) {
      say($("save-message"), t("admin.replies.not_saved", { reason: errorText(error) }), "critical");
    }
  });
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
    say($("preview-error"), "");
  } catch (error) {
    if (seq !== previewSeq) return;
    say($("preview-error"), errorText(error), "critical");
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
    sample.textContent = t("admin.replies.preview_sample");
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
    say($("preview-error"), errorText(error), "critical");
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
$("save").addEventListener("click", () => {
  if (!$("save").hasAttribute("disabled")) saveTemplate($("save"), body.value);
});
$("reset").addEventListener("click", () => {
  const template = current();
  if (template && !$("reset").hasAttribute("disabled")) saveTemplate($("reset"), template.default_body);
});

Promise.all([loadSettings(), loadTemplates(), loadOrders()]).catch((error) =>
  say($("settings-message"), errorText(error), "critical"),
);
