// What every embedded admin page shares, whether or not Shopify's scripts loaded (never waiting for them):
// - inside the Shopify admin, the admin shows the app's menu (<s-app-nav>), so the page's own bar hides;
// - outside it, links between the app's pages carry the id_token the page was opened with;
// - until Polaris defines <s-button> and <s-link> (or when it never loads), they work as a button or a
//   link would: focusable, Enter and Space press them, and one with href goes there.
import { inShopifyAdmin } from "./session.js";

const ACTIVE = ["s-button", "s-link"];

if (inShopifyAdmin()) {
  document.documentElement.dataset.inAdmin = "true";
} else if (document.body.dataset.idToken) {
  for (const element of document.querySelectorAll("[href]")) {
    const url = new URL(element.getAttribute("href"), window.location.href);
    if (url.origin === window.location.origin && (url.pathname === "/app" || url.pathname.startsWith("/app/"))) {
      url.searchParams.set("id_token", document.body.dataset.idToken);
      element.setAttribute("href", url.pathname + url.search);
    }
  }
}

function undefinedActive(element) {
  return element && ACTIVE.includes(element.localName) && !customElements.get(element.localName);
}

// Makes a Polaris button or link usable before Polaris defines it; undone once it does.
export function usable(element) {
  if (!undefinedActive(element)) return element;
  element.tabIndex = 0;
  element.setAttribute("role", element.hasAttribute("href") ? "link" : "button");
  element.dataset.standIn = "";
  return element;
}

for (const tag of ACTIVE) {
  for (const element of document.querySelectorAll(tag)) usable(element);
  customElements.whenDefined(tag).then(() => {
    for (const element of document.querySelectorAll(`${tag}[data-stand-in]`)) {
      element.removeAttribute("tabindex");
      element.removeAttribute("role");
      delete element.dataset.standIn;
    }
  });
}

document.addEventListener("click", (event) => {
  const element = event.target.closest(ACTIVE.map((tag) => `${tag}[href]`).join(","));
  if (!undefinedActive(element) || element.hasAttribute("disabled")) return;
  event.preventDefault();
  const href = element.getAttribute("href");
  if (element.getAttribute("target") === "_blank") window.open(href, "_blank", "noopener");
  else window.location.assign(href);
});

document.addEventListener("keydown", (event) => {
  const element = event.target.closest && event.target.closest("[data-stand-in]");
  if (!element || !undefinedActive(element) || element.hasAttribute("disabled")) return;
  if (event.key !== "Enter" && event.key !== " ") return;
  event.preventDefault();
  element.click();
});

// A Polaris button made in a script: label, what it does, and its attributes (variant, tone).
export function button(label, onClick, attributes = {}) {
  const element = document.createElement("s-button");
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.textContent = label;
  element.addEventListener("click", (event) => {
    if (!element.hasAttribute("disabled")) onClick(event);
  });
  return usable(element);
}

// Runs an action with its button disabled until it ends.
export async function busy(element, action) {
  element.setAttribute("disabled", "");
  try {
    return await action();
  } finally {
    element.removeAttribute("disabled");
  }
}

// A short message line (an <s-text>): the text, and its tone (critical, success) or none.
export function say(element, text, tone) {
  element.hidden = !text;
  element.textContent = text || "";
  if (tone) element.setAttribute("tone", tone);
  else element.removeAttribute("tone");
}

export function cell(text, className) {
  const td = document.createElement("td");
  if (text instanceof Node) td.append(text);
  else td.textContent = text;
  if (className) td.className = className;
  return td;
}

export function badge(text, tone) {
  const element = document.createElement("s-badge");
  if (tone) element.setAttribute("tone", tone);
  element.textContent = text;
  return element;
}
