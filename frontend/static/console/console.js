// The agent console: ticket list | conversation | customer sidebar, kept live by one EventSource.
// The address says what is open (#/tickets/12, #/tickets/12/profile), so the browser's back button and
// the narrow layout's back buttons move between the three panes.
import { errorText, get, loadSession, query, signOut } from "./api.js";
import { Conversation } from "./conversation.js";
import { CustomerPanel } from "./customer_panel.js";
import { role } from "./dom.js";
import { locale, t } from "./i18n.js";
import { connectLive, ids } from "./live.js";
import { TicketList, loadTagOptions } from "./ticket_list.js";

const body = document.body;
const agentId = Number(body.dataset.agentId);
const ROUTE = /^#\/tickets\/(\d+)(\/profile)?$/;

let openTicketId = null;
const tagOptions = role(document, "tag-options");

function onTicketChanged(ticket) {
  list.upsert(ticket);
  if (ticket.tags.some((tag) => ![...tagOptions.options].some((option) => option.value === tag))) {
    loadTagOptions(tagOptions);
  }
  if (ticket.id === openTicketId) {
    conversation.open(ticket);
    panel.showTicket(ticket);
  }
}

const list = new TicketList(document.querySelector(".pane-list"), { agentId });
const conversation = new Conversation(document.querySelector(".pane-conversation"), { agentId, onTicketChanged });
const panel = new CustomerPanel(document.querySelector(".pane-profile"), { onTicketChanged });

async function openTicket(id) {
  openTicketId = id;
  list.select(id);
  try {
    const ticket = await get(`/tickets/${id}${query({ locale })}`);
    if (openTicketId !== id) return;
    panel.showTicket(ticket);
    await conversation.open(ticket);
  } catch (error) {
    const message = role(document, "conversation-error");
    message.textContent = errorText(error);
    message.hidden = false;
  }
}

function route() {
  const match = ROUTE.exec(window.location.hash);
  if (!match) {
    body.dataset.pane = "list";
    return;
  }
  const id = Number(match[1]);
  body.dataset.pane = match[2] ? "profile" : "conversation";
  if (id !== openTicketId) openTicket(id);
}

async function refreshTicket(id) {
  try {
    onTicketChanged(await get(`/tickets/${id}${query({ locale })}`));
  } catch {
    // gone or no longer ours: the next list load tells
  }
}

function onLiveEvent(kind, data) {
  if (kind === "message.updated") {
    if (Number(data.ticket_id) === openTicketId) conversation.refreshMessage(Number(data.message_id));
    return;
  }
  if (kind === "message.created" || kind.startsWith("ticket.")) {
    if (data.ticket_id === undefined) return;
    const id = Number(data.ticket_id);
    refreshTicket(id);
    if (kind === "message.created" && id === openTicketId) conversation.fetchNew();
    if (kind === "ticket.updated" && data.message_id !== undefined && id === openTicketId) conversation.refreshDeliveries();
    return;
  }
  if (panel.touches(kind, data)) panel.refetchSoon();
  if (kind === "customers.changed" && openTicketId !== null && panel.ticket) {
    // a changed customer may be one the open ticket lists as a candidate, or one an unlinked ticket now
    // matches (the server links it while applying the webhook)
    const candidates = (panel.ticket.link && panel.ticket.link.candidates) || [];
    const waiting = panel.ticket.customer_shopify_id === null && !panel.ticket.link.guest_email && !panel.ticket.link.guest_phone;
    if (waiting || candidates.some((candidate) => ids(data.customer_ids).has(String(candidate.id)))) refreshTicket(openTicketId);
  }
}

function showLiveState(state) {
  const indicator = role(document, "live");
  indicator.dataset.state = state;
  indicator.textContent = t(`live.${state}`);
}

function onReconnected() {
  // events sent while the stream was down are lost: read again what is on screen
  list.reload();
  if (openTicketId !== null) {
    refreshTicket(openTicketId);
    conversation.refreshAfterReconnect();
    if (panel.ticket) panel.loadProfile(false);
  }
}

function wireNavigation() {
  window.addEventListener("hashchange", route);
  document.querySelector('[data-action="back-to-list"]').addEventListener("click", () => {
    window.location.hash = "#/";
  });
  document.querySelector('[data-action="show-profile"]').addEventListener("click", () => {
    if (openTicketId !== null) window.location.hash = `#/tickets/${openTicketId}/profile`;
  });
  document.querySelector('[data-action="back-to-conversation"]').addEventListener("click", () => {
    if (openTicketId !== null) window.location.hash = `#/tickets/${openTicketId}`;
  });
  document.querySelector('[data-action="sign-out"]').addEventListener("click", () => {
    closeLive(); // first, so the stream does not come back asking for the ended session
    signOut();
  });
  // a language switch keeps the open ticket
  for (const link of document.querySelectorAll("[data-lang]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      window.location.assign(`?lang=${encodeURIComponent(link.dataset.lang)}${window.location.hash}`);
    });
  }
}

let closeLive = () => {};

async function start() {
  wireNavigation();
  await loadSession();
  closeLive = connectLive(body.dataset.eventsUrl, {
    onEvent: onLiveEvent,
    onState: showLiveState,
    onReconnected,
    // an ended session sends the agent to sign in (the session call redirects on 401)
    onRefused: () => loadSession().catch(() => {}),
  });
  get("/agents")
    .then((answer) => conversation.setAgents(answer.agents))
    .catch(() => {});
  list.reload();
  loadTagOptions(tagOptions);
  conversation.loadSavedReplies();
  route();
}

start();
