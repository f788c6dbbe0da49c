// The embedded admin's words, from the server's catalogue (frontend/i18n/<locale>.json, its "admin." keys),
// handed over in the body's data-messages; dates and numbers as the admin's language writes them.
const messages = JSON.parse(document.body.dataset.messages || "{}");

export const locale = document.body.dataset.locale || "en";
const intlLocale = locale === "ja" ? "ja-JP" : "en-US";

export function has(key) {
  return Object.prototype.hasOwnProperty.call(messages, key);
}

export function t(key, values = {}) {
  const message = has(key) ? messages[key] : key;
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// A word for a code (a template, a scope, a phase) when the catalogue has one; the code in plain letters
// otherwise, so a code added later is still readable.
export function word(prefix, code) {
  return has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : String(code).replaceAll("_", " ");
}

export function number(value) {
  return Number(value).toLocaleString(intlLocale);
}

export function when(iso) {
  if (!iso) return t("admin.never");
  return new Date(iso).toLocaleString(intlLocale, { dateStyle: "medium", timeStyle: "short" });
}
