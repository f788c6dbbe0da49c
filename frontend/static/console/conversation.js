// The open conversation: its messages (customer, agent, bot, internal notes), the reply box with the
// note toggle and the saved replies, the tags, and the status and assignee controls.
import { errorText, get, query, request } from "./api.js";
import { element, field, fromTemplate, role, setText, setTime, showError } from "./dom.js";
import { has, locale, t } from "./i18n.js";
import { contactName, showChannel, showDue, tagSpelling } from "./ticket_list.js";

const NEAR_BOTTOM_PX = 80;

export class Conversation {
  constructor(root, { agentId, onTicketChanged }) {
    this.root = root;
    this.agentId = agentId;
    this.onTicketChanged = onTicketChanged;
    this.ticket = null;
    this.lastMessageId = 0;
    this.messageIds = new Set();
    this.undelivered = new Set();
    this.fetchingNew = null;
    this.fetchAgain = false;
    this.opened = 0;
    this.list = role(root, "messages");
    this.form = role(root, "reply");
    this.body = role(root, "reply-body");
    this.note = role(root, "reply-note");
    this.count = role(root, "reply-count");
    this.maxChars = Number(this.form.dataset.maxChars) || 10000;
    this.savedReplies = role(root, "saved-reply");
    this.tagInput = role(root, "tag-input");
    this.wire();
  }

  wire() {
    role(this.root, "status").addEventListener("change", (event) => this.update({ status: event.target.value }));
    role(this.root, "assignee").addEventListener("change", (event) => {
      const value = event.target.value;
      this.update({ assignee_id: value ? Number(value) : null });
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.body.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.send();
      }
    });
    this.body.addEventListener("input", () => this.countChars());
    this.note.addEventListener("change", () => this.noteMode());
    this.savedReplies.addEventListener("change", () => this.insertSavedReply());
    this.tagInput.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const tag = tagSpelling(this.tagInput.value);
      if (!tag || !this.ticket) return;
      if (!this.ticket.tags.includes(tag)) this.update({ tags: [...this.ticket.tags, tag] });
      this.tagInput.value = "";
    });
  }

  // The shop's saved replies, in the agent's language first.
  async loadSavedReplies() {
    let replies;
    try {
      ({ saved_replies: replies } = await get("/saved-replies"));
    } catch {
      return;
    }
    const ordered = [...replies.filter((r) => r.locale === locale), ...replies.filter((r) => r.locale !== locale)];
    const options = ordered.map((reply) => {
      const option = document.createElement("option");
      option.value = String(reply.id);
      option.textContent = reply.locale === locale ? reply.title : `${reply.title} (${reply.locale})`;
      return option;
    });
    this.savedReplies.replaceChildren(this.savedReplies.options[0], ...options);
  }

  // The chosen saved reply, filled in for this ticket by the server, goes into the reply box where the
  // cursor is (as text: the box is a textarea).
  async insertSavedReply() {
    const id = this.savedReplies.value;
    this.savedReplies.value = "";
    if (!id || !this.ticket) return;
    const missing = role(this.root, "saved-reply-missing");
    try {
      const filled = await get(`/tickets/${this.ticket.id}/saved-replies/${encodeURIComponent(id)}`);
      const { selectionStart: start, selectionEnd: end, value } = this.body;
      this.body.value = value.slice(0, start) + filled.body + value.slice(end);
      this.body.focus();
      this.body.selectionStart = this.body.selectionEnd = start + filled.body.length;
      this.countChars();
      const names = filled.missing_fields.map((name) => t(`saved.field.${name}`)).join(", ");
      showError(missing, names ? t("saved.missing", { fields: names }) : "");
    } catch (failure) {
      showError(role(this.root, "reply-error"), errorText(failure));
    }
  }

  renderTags(ticket) {
    const chips = ticket.tags.map((tag) => {
      const chip = document.createElement("li");
      chip.className = "tag";
      chip.dataset.tag = tag;
      const name = document.createElement("span");
      name.textContent = tag;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "tag-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", t("tags.remove", { tag }));
      remove.addEventListener("click", () => this.update({ tags: ticket.tags.filter((each) => each !== tag) }));
      chip.append(name, remove);
      return chip;
    });
    role(this.root, "tag-chips").replaceChildren(...chips);
  }

  setAgents(agents) {
    const select = role(this.root, "assignee");
    const keep = select.options[0];
    const options = agents.map((agent) => {
      const option = document.createElement("option");
      option.value = String(agent.id);
      option.textContent = agent.id === this.agentId ? t("conversation.me", { name: agent.name }) : agent.name;
      return option;
    });
    select.replaceChildren(keep, ...options);
    if (this.ticket) this.renderHeader(this.ticket);
  }

  async open(ticket) {
    const changed = !this.ticket || this.ticket.id !== ticket.id;
    this.ticket = ticket;
    role(this.root, "conversation").hidden = false;
    role(this.root, "conversation-empty").hidden = true;
    this.renderHeader(ticket);
    if (!changed) return;
    this.opened += 1;
    this.list.replaceChildren();
    this.messageIds = new Set();
    this.undelivered = new Set();
    this.lastMessageId = 0;
    showError(role(this.root, "reply-error"), "");
    showError(role(this.root, "conversation-error"), "");
    showError(role(this.root, "saved-reply-missing"), "");
    await this.fetchNew();
  }

  renderHeader(ticket) {
    setText(this.root, "subject", ticket.subject || t("list.no_subject"));
    setText(this.root, "contact", contactName(ticket.contact, ticket.customer_name));
    showChannel(field(this.root, "channel"), ticket.channel).textContent = t("conversation.via", {
      channel: t(`channel.${ticket.channel}`),
    });
    showDue(field(this.root, "due"), ticket.first_response);
    this.renderTags(ticket);
    role(this.root, "status").value = ticket.status;
    field(this.root, "resolved-by").hidden = !ticket.resolved_by_bot;
    const assignee = role(this.root, "assignee");
    const wanted = ticket.assignee ? String(ticket.assignee.id) : "";
    if (wanted && ![...assignee.options].some((option) => option.value === wanted)) {
      const option = document.createElement("option");
      option.value = wanted;
      option.textContent = ticket.assignee.name;
      assignee.append(option);
    }
    assignee.value = wanted;
  }

  // Messages after the newest shown. A call while one runs (a live event, a reply) asks the running one
  // to go round again, so no message is fetched twice and none is missed.
  fetchNew() {
    if (this.fetchingNew) {
      this.fetchAgain = true;
      return this.fetchingNew;
    }
    this.fetchingNew = this.fetchLoop().finally(() => {
      this.fetchingNew = null;
    });
    return this.fetchingNew;
  }

  async fetchLoop() {
    do {
      this.fetchAgain = false;
      const ticketId = this.ticket.id;
      const opened = this.opened;
      const after = this.lastMessageId ? { after_id: this.lastMessageId } : {};
      try {
        const page = await get(`/tickets/${ticketId}/messages${query(after)}`);
        if (this.opened !== opened) {
          this.fetchAgain = true; // another ticket was opened meanwhile: fetch its messages
          continue;
        }
        this.append(page.messages);
      } catch (error) {
        showError(role(this.root, "conversation-error"), errorText(error));
      }
    } while (this.fetchAgain);
  }

  append(messages) {
    const nearBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < NEAR_BOTTOM_PX;
    let added = 0;
    for (const message of messages) {
      if (this.messageIds.has(message.id)) {
        const shown = this.list.querySelector(`[data-message-id="${Number(message.id)}"]`);
        if (shown) {
          // the same message again: its delivery may have moved on, or the shopper unsent it on LINE
          setText(shown, "body", message.body);
          this.showAttachments(shown, message);
          this.showDelivery(shown, message);
        }
        continue;
      }
      this.messageIds.add(message.id);
      this.lastMessageId = Math.max(this.lastMessageId, message.id);
      this.list.append(this.item(message));
      added += 1;
    }
    if (added && (nearBottom || messages.length === added)) this.list.scrollTop = this.list.scrollHeight;
    if (messages.some((message) => message.author_type === "bot")) this.loadDecisions();
    if (!this.list.children.length) {
      const empty = document.createElement("li");
      empty.className = "muted centered empty";
      empty.textContent = t("conversation.no_messages");
      this.list.append(empty);
    } else {
      for (const empty of this.list.querySelectorAll(".empty")) empty.remove();
    }
  }

  item(message) {
    const item = fromTemplate("message-item");
    item.dataset.messageId = String(message.id);
    item.dataset.author = message.author_type;
    item.classList.add(`message-${message.author_type}`);
    const label = t(`author.${message.author_type}`);
    const name = message.author && message.author.name;
    setText(item, "author", name && name !== label ? `${name} · ${label}` : label);
    setTime(field(item, "time"), message.created_at);
    setText(item, "body", message.body);
    this.showAttachments(item, message);
    this.showDelivery(item, message);
    return item;
  }

  // What the shopper sent beside words: an email's files, a LINE picture. Links open in a new tab (the
  // server shows only safe picture types inline and sends anything else as a download).
  showAttachments(item, message) {
    const list = field(item, "attachments");
    const files = message.attachments || [];
    list.replaceChildren(
      ...files.map((file) => {
        const size = file.size_bytes ? ` (${formatSize(file.size_bytes)})` : "";
        const label = file.name ? `${file.name}${size}` : t(`attachment.open.${file.kind}`);
        const link = element("a", {
          text: label,
          attrs: { href: file.url, target: "_blank", rel: "noopener", "data-kind": file.kind },
        });
        if (file.name) link.title = t(`attachment.open.${file.kind}`);
        return element("li", { className: "attachment" }, link);
      }),
    );
    list.hidden = !files.length;
  }

  // A message changed after it was shown (unsent on LINE): fetch it again with those after it.
  async refreshMessage(messageId) {
    if (!this.ticket || !this.messageIds.has(messageId)) return;
    const ticketId = this.ticket.id;
    try {
      const page = await get(`/tickets/${ticketId}/messages${query({ after_id: messageId - 1 })}`);
      if (this.ticket && this.ticket.id === ticketId) this.append(page.messages);
    } catch {
      // the next event or reload tells
    }
  }

  // A reply that leaves by LINE or email says so until the channel has taken it ("not sent yet"), or
  // that it could not be sent.
  showDelivery(item, message) {
    const delivery = field(item, "delivery");
    const waiting = message.delivery === "pending" || message.delivery === "failed";
    delivery.hidden = !waiting;
    delivery.textContent = waiting ? t(`delivery.${message.delivery}`) : "";
    delivery.className = "delivery badge";
    delivery.dataset.kind = message.delivery || "";
    if (waiting && message.delivery === "pending") this.undelivered.add(message.id);
    else this.undelivered.delete(message.id);
  }

  // A delivery's state changed (a live event): fetch the messages from the oldest still waiting.
  async refreshDeliveries() {
    if (!this.ticket || !this.undelivered.size) return;
    const ticketId = this.ticket.id;
    const after = Math.min(...this.undelivered) - 1;
    try {
      const page = await get(`/tickets/${ticketId}/messages${query({ after_id: after })}`);
      if (this.ticket && this.ticket.id === ticketId) this.append(page.messages);
    } catch {
      // the next event or reload tells
    }
  }

  // Beside each bot message, the decision behind it (the audit): intent, confidence, order, verification,
  // reason. Fetched again whenever bot messages arrive; a failure leaves the messages as they are.
  async loadDecisions() {
    const ticketId = this.ticket && this.ticket.id;
    if (!ticketId) return;
    let decisions;
    try {
      ({ decisions } = await get(`/tickets/${ticketId}/decisions`));
    } catch {
      return;
    }
    if (!this.ticket || this.ticket.id !== ticketId) return;
    for (const decision of decisions) {
      if (!decision.reply_message_id) continue;
      const item = this.list.querySelector(`[data-message-id="${Number(decision.reply_message_id)}"]`);
      if (!item || item.querySelector(".decision")) continue;
      item.append(this.decisionBox(decision));
    }
  }

  decisionBox(decision) {
    const box = document.createElement("dl");
    box.className = "decision";
    box.dataset.decisionId = String(decision.id);
    box.setAttribute("aria-label", t("decision.label"));
    // codes in words, in the agent's language; the code stays on the element for whoever needs it
    const inWords = (group, code) => (has(`decision.${group}.${code}`) ? t(`decision.${group}.${code}`) : code);
    const rows = [
      ["intent", inWords("intent", decision.intent), decision.intent],
      ["confidence", Number(decision.confidence).toFixed(2)],
      ["order", decision.order_name || t("decision.none")],
      ["verification", inWords("verification", decision.verification), decision.verification],
      ["reason", decision.reason],
    ];
    for (const [name, value, code] of rows) {
      const term = document.createElement("dt");
      term.textContent = t(`decision.${name}`);
      const detail = document.createElement("dd");
      detail.dataset.field = `decision-${name}`;
      if (code !== undefined) detail.dataset.code = String(code);
      detail.textContent = String(value);
      box.append(term, detail);
    }
    return box;
  }

  countChars() {
    const length = this.body.value.length;
    const tooLong = length > this.maxChars;
    this.count.textContent = length
      ? t(tooLong ? "reply.too_long" : "reply.count", { count: length, max: this.maxChars })
      : "";
    this.count.classList.toggle("form-error", tooLong);
    role(this.root, "reply-send").disabled = tooLong;
  }

  noteMode() {
    const note = this.note.checked;
    this.form.classList.toggle("note-mode", note);
    this.body.placeholder = t(note ? "reply.note_placeholder" : "reply.placeholder");
    role(this.root, "reply-send").textContent = t(note ? "reply.add_note" : "reply.send");
  }

  async send() {
    const text = this.body.value;
    if (!text.trim() || text.length > this.maxChars || !this.ticket) return;
    const button = role(this.root, "reply-send");
    const error = role(this.root, "reply-error");
    button.disabled = true;
    showError(error, "");
    try {
      const message = await request("POST", `/tickets/${this.ticket.id}/messages`, {
        body: text,
        kind: this.note.checked ? "note" : "reply",
      });
      this.body.value = "";
      this.countChars();
      this.append([message]);
      this.list.scrollTop = this.list.scrollHeight;
    } catch (failure) {
      showError(error, errorText(failure));
    } finally {
      button.disabled = this.body.value.length > this.maxChars;
    }
  }

  async update(changes) {
    if (!this.ticket) return;
    const error = role(this.root, "conversation-error");
    showError(error, "");
    try {
      const ticket = await request("PATCH", `/tickets/${this.ticket.id}${query({ locale })}`, changes);
      this.onTicketChanged(ticket);
    } catch (failure) {
      showError(error, errorText(failure));
      this.renderHeader(this.ticket);
    }
  }

  async refreshAfterReconnect() {
    if (this.ticket) await this.fetchNew();
  }
}

function formatSize(bytes) {
  const units = ["B", "KB", "MB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: unit ? 1 : 0 }).format(value)} ${units[unit]}`;
}
