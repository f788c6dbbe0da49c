// UI strings from the server's catalogue (frontend/i18n/<locale>.json), handed over in data-messages.
const messages = JSON.parse(document.body.dataset.messages || "{}");

export const locale = document.body.dataset.locale || "en";

export function has(key) {
  return Object.prototype.hasOwnProperty.call(messages, key);
}

export function t(key, values = {}) {
  const message = has(key) ? messages[key] : key;
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}
