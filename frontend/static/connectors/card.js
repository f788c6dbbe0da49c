// The profile card inside another helpdesk (shared by the vendors' host scripts): fetches the card's
// content for the conversation its host described, with the page's card token, again every few seconds
// while visible (live). Messages are taken from the configured helpdesk origin only.
const body = document.body;
const card = document.querySelector('[data-role="card"]');
const messages = JSON.parse(body.dataset.messages || "{}");
const allowedOrigin = body.dataset.origin;
const refreshMs = Number(body.dataset.refreshSeconds || "30") * 1000;
let current = null;
let timer = null;

export const t = (key) => messages[key] || key;

export function fromHost(event) {
  // every message: only the helpdesk's own origin, never any other frame or window
  return event.origin === allowedOrigin;
}

async function load() {
  if (!current) return;
  try {
    const response = await fetch("/connectors/card/profile", {
      method: "POST",
      headers: { Authorization: `Card ${body.dataset.token}`, "Content-Type": "application/json" },
      body: JSON.stringify(current),
      credentials: "omit",
    });
    if (!response.ok) throw new Error(String(response.status));
    // our own server-rendered fragment: every value in it was escaped by the template
    card.innerHTML = await response.text();
    card.dataset.loaded = "true";
  } catch {
    card.textContent = t("card.error");
  }
}

export function show(context) {
  current = {
    conversation_id: context.conversation_id ?? null,
    email: context.email ?? null,
    phone: context.phone ?? null,
  };
  load();
  clearInterval(timer);
  timer = setInterval(() => {
    if (document.visibilityState === "visible") load();
  }, refreshMs);
}
