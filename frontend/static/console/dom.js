// Small DOM helpers. Every piece of data reaches the page through textContent or a checked attribute,
// never through innerHTML.
import { locale } from "./i18n.js";

const timeZone = document.body.dataset.timezone || "UTC";

export function fromTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

export function field(root, name) {
  return root.querySelector(`[data-field="${name}"]`);
}

export function role(root, name) {
  return root.querySelector(`[data-role="${name}"]`);
}

export function setText(root, name, text) {
  const node = field(root, name);
  node.textContent = text ?? "";
  return node;
}

export function element(tag, { className, text, attrs } = {}, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

// Only web addresses become links: a "javascript:" or "data:" URL in a tracking field stays text.
export function safeHttpUrl(raw) {
  if (typeof raw !== "string" || !raw) return null;
  try {
    const url = new URL(raw);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

export function externalLink(href, text) {
  return element("a", { text, attrs: { href, target: "_blank", rel: "noopener noreferrer" } });
}

let timeFormat;
function fallbackFormat() {
  if (!timeFormat) {
    const options = { dateStyle: "medium", timeStyle: "short" };
    try {
      timeFormat = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    } catch {
      timeFormat = new Intl.DateTimeFormat(locale, options);
    }
  }
  return timeFormat;
}

// A time from the API: a {iso, display} pair formatted by the server (profile), or a bare ISO string
// (tickets, messages), shown in the agent's locale and the shop's time zone.
export function timeText(value) {
  if (!value) return "";
  if (typeof value === "object") return value.display || value.iso || "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : fallbackFormat().format(date);
}

export function setTime(node, value) {
  node.textContent = timeText(value);
  const iso = typeof value === "object" && value ? value.iso : value;
  if (iso && node.tagName === "TIME") node.dateTime = iso;
}

export function showError(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}
