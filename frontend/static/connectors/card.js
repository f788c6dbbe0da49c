// The profile card inside another helpdesk (shared by the vendors' host scripts): fetches the card's
// content for the conversation its host described, with the page's card token, and again as soon as the
// app's live events say that something it shows changed (an order or shipment, the customer, a variant's
// stock, the mirrored ticket): one stream of ids, read with fetch so the token travels in a header, never
// in an address. Messages are taken from the configured helpdesk origin only.
const body = document.body;
const card = document.querySelector('[data-role="card"]');
const catalogues = JSON.parse(body.dataset.messages || "{}");
const allowedOrigin = body.dataset.origin;
const auth = { Authorization: `Card ${body.dataset.token}` };
const REFETCH_DELAY_MS = 100; // a burst of events (an order and its stock) costs one fetch
// a change that may concern a guest or a customer not matched yet (any order, any customer): a sync's
// stream of them costs one fetch every couple of seconds at most
const BROAD_REFETCH_DELAY_MS = 2000;
const MAX_BACKOFF_MS = 30000;
let lang = document.documentElement.lang;
let current = null;
let loads = 0;
let refetch = null;
let listening = false;

export const t = (key) => (catalogues[lang] || {})[key] || key;

export function fromHost(event) {
  // every message: only the helpdesk's own origin, never any other frame or window
  return event.origin === allowedOrigin;
}

function setLanguage(next) {
  if (!next || !catalogues[next] || next === lang) return;
  lang = next;
  document.documentElement.lang = next;
  document.title = t("card.title");
}

async function load() {
  if (!current) return;
  const mine = ++loads;
  try {
    const response = await fetch("/connectors/card/profile", {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify(current),
      credentials: "omit",
    });
    if (!response.ok) throw new Error(String(response.status));
    const html = await response.text();
    if (mine !== loads) return; // a later load is on its way
    // the server's choice among the agent's, the browser's and the shop's language
    setLanguage(response.headers.get("Content-Language"));
    // our own server-rendered fragment: every value in it was escaped by the template
    card.innerHTML = html;
    card.dataset.loaded = "true";
    card.dataset.loads = String(mine);
  } catch {
    if (mine === loads) card.textContent = t("card.error");
  }
}

function words(name) {
  const watch = card.querySelector('[data-role="watch"]');
  return new Set(((watch && watch.dataset[name]) || "").split(" ").filter(Boolean));
}

function meets(list, shown) {
  return (Array.isArray(list) ? list : []).some((id) => shown.has(String(id)));
}

// Does a live event change what the card shows? The delay before fetching again, or null.
function touches(kind, data) {
  const customer = words("customer");
  if (kind === "ticket.updated") return words("ticket").has(String(data.ticket_id)) ? REFETCH_DELAY_MS : null;
  if (kind === "stock.changed") return meets(data.variant_ids, words("variants")) ? REFETCH_DELAY_MS : null;
  if (kind !== "customers.changed" && kind !== "orders.changed") return null;
  if (meets(data.customer_ids, customer) || meets(data.order_ids, words("orders"))) return REFETCH_DELAY_MS;
  // a guest's orders are matched by email or phone, and no match yet may become one: any may be theirs
  return customer.size === 0 ? BROAD_REFETCH_DELAY_MS : null;
}

function soon(delay = REFETCH_DELAY_MS) {
  if (refetch !== null && delay > REFETCH_DELAY_MS) return; // one already waits: it will see this too
  clearTimeout(refetch);
  refetch = setTimeout(() => {
    refetch = null;
    load();
  }, delay);
}

function dispatch(block) {
  let kind = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) kind = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  if (!data.length) return;
  let parsed;
  try {
    parsed = JSON.parse(data.join("\n"));
  } catch {
    return;
  }
  const delay = parsed && typeof parsed === "object" ? touches(kind, parsed) : null;
  if (delay !== null) soon(delay);
}

async function listen() {
  let failures = 0;
  let connectedBefore = false;
  for (;;) {
    try {
      const response = await fetch("/connectors/card/events", {
        method: "POST",
        headers: { ...auth, Accept: "text/event-stream" },
        credentials: "omit",
        cache: "no-store",
      });
      if (response.status === 401) return; // the card token ended: the page is opened again by its host
      if (!response.ok || !response.body) throw new Error(String(response.status));
      body.dataset.live = "true";
      failures = 0;
      if (connectedBefore) soon(); // what changed while away
      connectedBefore = true;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      failures += 1;
    }
    body.dataset.live = "false";
    await new Promise((resume) => setTimeout(resume, Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 6))));
  }
}

export function show(context) {
  current = {
    conversation_id: context.conversation_id ?? null,
    email: context.email ?? null,
    phone: context.phone ?? null,
    locale: context.locale ?? null,
  };
  load();
  if (!listening) {
    listening = true;
    listen();
  }
}
