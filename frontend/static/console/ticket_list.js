// The ticket list: status tabs, views, search, pages by cursor, rows kept fresh by live events.
import { errorText, get, query } from "./api.js";
import { field, fromTemplate, role, setText, setTime, showError, timeText } from "./dom.js";
import { t } from "./i18n.js";

// A tag as the server writes it (NFKC, spaces collapsed, lower case): "VIP" filters "vip".
export function tagSpelling(text) {
  return text.normalize("NFKC").replace(/\s+/g, " ").trim().toLowerCase();
}

// The channel a ticket came in on: an icon (by CSS, from data-channel) and its name in the agent's language.
export function showChannel(node, channel) {
  node.dataset.channel = channel;
  node.textContent = t(`channel.${channel}`);
  return node;
}

// Where the ticket stands against its channel's first-response target (due, overdue, met, missed).
export function showDue(node, firstResponse) {
  node.hidden = !firstResponse || firstResponse.state === "met";
  if (node.hidden) return node;
  node.dataset.state = firstResponse.state;
  node.textContent = t(`due.${firstResponse.state}`, { time: timeText(firstResponse.due_at) });
  node.title = t("due.due", { time: timeText(firstResponse.due_at) });
  return node;
}

const PAGE_SIZE = 25;
const SEARCH_DELAY_MS = 300;

// The linked customer's name as the shop has it (family name first in Japanese), else what the contact gave.
export function contactName(contact, customerName = null) {
  return customerName || (contact && (contact.name || contact.email || contact.phone_display || contact.phone)) || t("list.unknown_contact");
}

export function linkBadge(ticket) {
  const reason = ticket.link_reason || (ticket.link && ticket.link.reason);
  if (!reason) return { kind: "unlinked", text: t("badge.unlinked") };
  const customer = ticket.link ? ticket.link.customer_shopify_id : ticket.customer_shopify_id;
  if (reason.startsWith("guest_order") || !customer) return { kind: "guest", text: t("badge.guest") };
  return { kind: "linked", text: t("badge.linked") };
}

// An open ticket the shop opened by telling the customer first (a proactive notice) waits for a person's
// follow-up: it goes above the rest.
const PROACTIVE_TAG = "proactive";
const proactive = (ticket) => ticket.status === "open" && ticket.tags.includes(PROACTIVE_TAG);

function newestFirst(a, b) {
  return (
    Number(proactive(b)) - Number(proactive(a)) ||
    Date.parse(b.last_message_at) - Date.parse(a.last_message_at) ||
    b.id - a.id
  );
}

export class TicketList {
  constructor(root, { agentId }) {
    this.root = root;
    this.agentId = agentId;
    this.status = "open";
    this.view = "all";
    this.q = "";
    this.channel = "";
    this.tag = "";
    this.cursor = null;
    this.tickets = new Map();
    this.selectedId = null;
    this.generation = 0;
    this.loading = false;
    this.list = role(root, "tickets");
    this.more = role(root, "more");
    this.message = role(root, "list-status");
    this.wire();
  }

  wire() {
    for (const tab of this.root.querySelectorAll("[data-status]")) {
      tab.addEventListener("click", () => {
        this.status = tab.dataset.status;
        this.markChoice("[data-status]", "aria-selected", tab);
        this.reload();
      });
    }
    for (const button of this.root.querySelectorAll("[data-view]")) {
      button.addEventListener("click", () => {
        this.view = button.dataset.view;
        this.markChoice("[data-view]", "aria-pressed", button);
        this.reload();
      });
    }
    let timer = null;
    role(this.root, "search").addEventListener("input", (event) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.q = event.target.value.trim();
        this.reload();
      }, SEARCH_DELAY_MS);
    });
    role(this.root, "channel-filter").addEventListener("change", (event) => {
      this.channel = event.target.value;
      this.reload();
    });
    let tagTimer = null;
    role(this.root, "tag-filter").addEventListener("input", (event) => {
      clearTimeout(tagTimer);
      tagTimer = setTimeout(() => {
        this.tag = event.target.value.trim();
        this.reload();
      }, SEARCH_DELAY_MS);
    });
    this.more.addEventListener("click", () => this.loadMore());
    // infinite scrolling: the "more" button loads itself when it scrolls into view
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && !this.more.hidden) this.loadMore();
    }).observe(this.more);
  }

  markChoice(selector, attribute, chosen) {
    for (const node of this.root.querySelectorAll(selector)) {
      node.setAttribute(attribute, node === chosen ? "true" : "false");
    }
  }

  params(cursor) {
    const filters = { channel: this.channel, tag: this.tag };
    return query({ status: this.status, view: this.view, q: this.q, ...filters, limit: PAGE_SIZE, cursor });
  }

  async reload() {
    const generation = ++this.generation;
    this.loading = true;
    this.showStatus(t("list.loading"));
    try {
      const page = await get(`/tickets${this.params()}`);
      if (generation !== this.generation) return;
      this.tickets = new Map(page.tickets.map((ticket) => [ticket.id, ticket]));
      this.cursor = page.next_cursor;
      this.render();
    } catch (error) {
      if (generation === this.generation) this.showStatus(errorText(error), true);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  async loadMore() {
    if (this.loading || !this.cursor) return;
    const generation = this.generation;
    this.loading = true;
    try {
      const page = await get(`/tickets${this.params(this.cursor)}`);
      if (generation !== this.generation) return;
      for (const ticket of page.tickets) this.tickets.set(ticket.id, ticket);
      this.cursor = page.next_cursor;
      this.render();
    } catch (error) {
      this.showStatus(errorText(error), true);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  belongsHere(ticket) {
    if (ticket.status !== this.status) return false;
    const assigneeId = ticket.assignee ? ticket.assignee.id : null;
    if (this.channel && ticket.channel !== this.channel) return false;
    if (this.tag && !ticket.tags.includes(tagSpelling(this.tag))) return false;
    if (this.view === "mine") return assigneeId === this.agentId;
    if (this.view === "unassigned") return assigneeId === null;
    return true;
  }

  // A ticket fetched after a live event: its row is updated, added (newest first) or removed.
  upsert(ticket) {
    const shown = this.tickets.has(ticket.id);
    if (!this.belongsHere(ticket)) {
      if (shown) {
        this.tickets.delete(ticket.id);
        this.render();
      }
      return;
    }
    // with a search, only rows already found are refreshed: the server decides what matches
    if (!shown && this.q) return;
    this.tickets.set(ticket.id, ticket);
    this.render();
  }

  select(id) {
    this.selectedId = id;
    for (const row of this.list.children) {
      const link = row.querySelector("a");
      if (Number(row.dataset.ticketId) === id) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
  }

  render() {
    const rows = [...this.tickets.values()].sort(newestFirst).map((ticket) => this.row(ticket));
    this.list.replaceChildren(...rows);
    this.more.hidden = !this.cursor;
    this.showStatus(rows.length ? "" : t("list.empty"));
  }

  row(ticket) {
    const row = fromTemplate("ticket-row");
    row.dataset.ticketId = String(ticket.id);
    if (proactive(ticket)) row.dataset.proactive = "true";
    const link = field(row, "link");
    link.href = `#/tickets/${ticket.id}`;
    if (ticket.id === this.selectedId) link.setAttribute("aria-current", "true");
    setText(row, "contact", contactName(ticket.contact, ticket.customer_name));
    setTime(field(row, "time"), ticket.last_message_at);
    setText(row, "subject", ticket.subject || t("list.no_subject"));
    setText(row, "preview", ticket.last_message_preview || "");
    const badge = linkBadge(ticket);
    const badgeNode = setText(row, "badge", badge.text);
    badgeNode.dataset.kind = badge.kind;
    showChannel(field(row, "channel"), ticket.channel);
    showDue(field(row, "due"), ticket.first_response);
    field(row, "tags").replaceChildren(
      ...ticket.tags.map((tag) => {
        const chip = document.createElement("span");
        chip.className = "tag";
        chip.textContent = tag === PROACTIVE_TAG ? t("list.proactive") : tag;
        return chip;
      }),
    );
    const who = ticket.assignee ? ticket.assignee.name : t("list.unassigned");
    setText(row, "assignee", ticket.resolved_by_bot ? t("status.resolved_by_bot") : who);
    return row;
  }

  showStatus(text, isError = false) {
    showError(this.message, text);
    this.message.classList.toggle("form-error", isError);
  }
}

// The shop's tags, offered in the tag filter and the tag editor.
export async function loadTagOptions(datalist) {
  try {
    const { tags } = await get("/tags");
    datalist.replaceChildren(
      ...tags.map(({ tag }) => {
        const option = document.createElement("option");
        option.value = tag;
        return option;
      }),
    );
  } catch {
    // suggestions only: typing still works
  }
}
