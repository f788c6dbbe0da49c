// The actions on an order card: what this agent may do (from GET /orders/{id}/actions; the hidden ones say
// why), one dialog per action that asks Shopify for a preview first (amounts and taxes in the agent's
// language and the shop's currency, formatted by the server), then an explicit confirmation; the outcome,
// Shopify's refusal in words, or "awaiting approval". Every piece of data goes in through textContent.
import { errorText, get, query, request } from "./api.js";
import { element, field, role, showError } from "./dom.js";
import { locale, t } from "./i18n.js";

const KINDS = ["refund", "cancel", "address", "hold", "release_hold", "note", "tag", "resend_invoice", "resend_shipping"];
const CANCEL_REASONS = ["CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER"];
const HOLD_REASONS = [
  "AWAITING_PAYMENT",
  "HIGH_RISK_OF_FRAUD",
  "INCORRECT_ADDRESS",
  "INVENTORY_OUT_OF_STOCK",
  "UNKNOWN_DELIVERY_DATE",
  "OTHER",
];
const MAX_TEXT = 5000;

function labelled(text, control) {
  return element("label", { className: "action-field" }, element("span", { text }), control);
}

function checkbox(name, checked) {
  const input = element("input", { attrs: { type: "checkbox", name } });
  input.checked = checked;
  return input;
}

function check(name, checked) {
  return element("label", { className: "action-check" }, checkbox(name, checked), " ", t(`order_actions.field.${name}`));
}

function select(name, values, prefix) {
  const node = element("select", { attrs: { name } });
  node.append(...values.map((value) => element("option", { text: t(`${prefix}.${value}`), attrs: { value } })));
  return labelled(t(`order_actions.field.${name}`), node);
}

function text(name, { multiline = false, max = 255, value = "" } = {}) {
  const node = multiline
    ? element("textarea", { attrs: { name, rows: "3", maxlength: String(max) } })
    : element("input", { attrs: { type: "text", name, maxlength: String(max) } });
  node.value = value;
  return labelled(t(`order_actions.field.${name}`), node);
}

// The fields of each action's dialog, with what the form sends.
const FORMS = {
  cancel: {
    fields: () => [
      select("reason", CANCEL_REASONS, "order_actions.cancel_reason"),
      select("refund_to", ["original", "store_credit"], "order_actions.refund_to"),
      check("restock", true),
      check("notify", false),
      text("staff_note", { multiline: true, max: MAX_TEXT }),
    ],
    body: (form) => ({
      reason: form.elements.reason.value,
      refund_to: form.elements.refund_to.value,
      restock: form.elements.restock.checked,
      notify: form.elements.notify.checked,
      staff_note: form.elements.staff_note.value.trim() || undefined,
    }),
  },
  refund: {
    fields: (order) => [
      element(
        "fieldset",
        { className: "refund-lines" },
        element("legend", { text: t("order_actions.field.lines") }),
        ...order.items.map((item) => {
          const left = item.current_quantity ?? item.quantity;
          const input = element("input", {
            attrs: { type: "number", name: "line", min: "0", max: String(left), step: "1", value: "0" },
          });
          input.dataset.lineItemId = String(item.id);
          input.disabled = left < 1;
          const title = item.variant_title ? `${item.title} — ${item.variant_title}` : item.title;
          return labelled(`${title} (${t("order_actions.refundable", { count: left })})`, input);
        }),
      ),
      check("shipping", false),
      check("restock", true),
      check("notify", false),
      text("note", { multiline: true, max: MAX_TEXT }),
    ],
    body: (form) => ({
      lines: [...form.querySelectorAll('input[name="line"]')]
        .map((input) => ({ line_item_id: Number(input.dataset.lineItemId), quantity: Number(input.value) }))
        .filter((line) => Number.isInteger(line.quantity) && line.quantity > 0),
      shipping: form.elements.shipping.checked,
      restock: form.elements.restock.checked,
      notify: form.elements.notify.checked,
      note: form.elements.note.value.trim() || undefined,
    }),
  },
  address: {
    // Japanese names family name first
    fields: () => [
      ...(locale === "ja" ? ["last_name", "first_name"] : ["first_name", "last_name"]).map((name) => text(name)),
      text("zip", { max: 20 }),
      text("province_code", { max: 10 }),
      text("city"),
      text("address1"),
      text("address2"),
      text("country_code", { max: 2, value: "JP" }),
      text("phone", { max: 32 }),
    ],
    body: (form) => {
      const body = {};
      for (const name of ["first_name", "last_name", "zip", "province_code", "city", "address1", "address2", "phone"]) {
        const value = form.elements[name].value.trim();
        if (value) body[name] = value;
      }
      body.address1 = body.address1 || "";
      body.city = body.city || "";
      body.zip = body.zip || "";
      body.country_code = form.elements.country_code.value.trim().toUpperCase();
      return body;
    },
  },
  hold: {
    fields: () => [select("reason", HOLD_REASONS, "order_actions.hold_reason"), text("notes", { multiline: true, max: MAX_TEXT })],
    body: (form) => ({ reason: form.elements.reason.value, notes: form.elements.notes.value.trim() || undefined }),
  },
  release_hold: { fields: () => [], body: () => ({}) },
  resend_invoice: { fields: () => [], body: () => ({}) },
  resend_shipping: { fields: () => [], body: () => ({}) },
  note: {
    fields: () => [text("note", { multiline: true, max: MAX_TEXT })],
    body: (form) => ({ note: form.elements.note.value }),
  },
  tag: {
    fields: () => [text("tags", { max: 500 })],
    body: (form) => ({
      tags: form.elements.tags.value
        .split(/[,、]/)
        .map((tag) => tag.trim())
        .filter(Boolean),
    }),
  },
};

export class OrderActions {
  constructor(dialog, { ticketId, onDone }) {
    this.dialog = dialog;
    this.ticketId = ticketId;
    this.onDone = onDone;
    this.current = null;
    this.form = role(dialog, "action-form");
    this.previewButton = role(dialog, "action-preview");
    this.confirmButton = role(dialog, "action-confirm");
    this.previewButton.addEventListener("click", () => this.preview());
    this.confirmButton.addEventListener("click", () => this.confirm());
    role(dialog, "action-close").addEventListener("click", () => this.close());
    // a change after the preview makes it stale: it must be previewed again
    this.form.addEventListener("input", () => this.forgetPreview());
    this.form.addEventListener("submit", (event) => event.preventDefault());
  }

  // Fills a card's actions part: the buttons the agent may use, why the others are hidden, those taken.
  async attach(card, order) {
    const box = field(card, "actions");
    const status = field(card, "actions-status");
    try {
      const answer = await get(`/orders/${order.id}/actions${query({ locale })}`);
      box.hidden = false;
      status.textContent = "";
      this.render(card, order, answer);
    } catch (error) {
      box.hidden = false;
      status.textContent = errorText(error);
    }
  }

  render(card, order, answer) {
    const buttons = field(card, "action-buttons");
    buttons.replaceChildren(
      ...KINDS.filter((kind) => answer.available.includes(kind)).map((kind) => {
        const button = element("button", { text: t(`actions.kind.${kind}`), attrs: { type: "button" } });
        button.dataset.kind = kind;
        button.addEventListener("click", () => this.open(card, order, kind));
        return button;
      }),
    );
    const reasons = new Map();
    for (const kind of KINDS) {
      const why = answer.hidden[kind];
      if (why) reasons.set(why, [...(reasons.get(why) || []), t(`actions.kind.${kind}`)]);
    }
    field(card, "actions-hidden").replaceChildren(
      ...[...reasons].map(([why, kinds]) =>
        element("li", { text: t(`order_actions.hidden.${why}`, { actions: kinds.join(t("order_actions.separator")) }) }),
      ),
    );
    field(card, "action-history").replaceChildren(
      ...answer.actions
        .filter((action) => action.status !== "previewed" && action.status !== "expired")
        .map((action) => {
          const item = element(
            "li",
            { className: "action-entry" },
            element("span", { className: "status-word", text: t(`order_actions.status.${action.status}`) }),
            " ",
            element("span", { text: action.summary }),
            ...(action.confirmed_by_shopify_at
              ? [" ", element("span", { className: "confirmed-word", text: t("order_actions.confirmed_by_shopify") })]
              : []),
          );
          if (action.confirmed_by_shopify_at) item.dataset.confirmed = "true";
          item.dataset.status = action.status;
          item.dataset.kind = action.kind;
          return item;
        }),
    );
  }

  open(card, order, kind) {
    this.current = { card, order, kind, token: null };
    field(this.dialog, "title").textContent = t("order_actions.dialog_title", {
      action: t(`actions.kind.${kind}`),
      order: order.name,
    });
    this.dialog.dataset.kind = kind;
    field(this.dialog, "fields").replaceChildren(...FORMS[kind].fields(order));
    this.forgetPreview();
    this.outcome(null);
    this.previewButton.hidden = false;
    this.previewButton.disabled = false;
    if (!this.dialog.open) this.dialog.showModal();
  }

  close() {
    this.current = null;
    this.dialog.close();
  }

  forgetPreview() {
    if (this.current) this.current.token = null;
    const preview = field(this.dialog, "preview");
    preview.hidden = true;
    preview.replaceChildren();
    this.confirmButton.hidden = true;
    showError(field(this.dialog, "error"), "");
  }

  async preview() {
    const current = this.current;
    if (!current) return;
    showError(field(this.dialog, "error"), "");
    const body = { kind: current.kind, order_id: current.order.id, ...FORMS[current.kind].body(this.form) };
    const ticketId = this.ticketId();
    if (ticketId) body.ticket_id = ticketId;
    for (const [name, value] of Object.entries(body)) if (value === undefined) delete body[name];
    this.previewButton.disabled = true;
    try {
      const action = await request("POST", `/order-action-previews${query({ locale })}`, body);
      if (this.current !== current) return;
      current.token = action.token;
      this.showPreview(action);
      this.confirmButton.hidden = false;
      this.confirmButton.disabled = false;
    } catch (error) {
      if (this.current === current) showError(field(this.dialog, "error"), errorText(error));
    } finally {
      this.previewButton.disabled = false;
    }
  }

  showPreview(action) {
    const preview = field(this.dialog, "preview");
    const order = action.preview.order || {};
    const amounts = action.amounts_text || {};
    const rows = [];
    for (const line of order.lines || []) {
      const figure = amounts[`line:${line.line_item_id}`] || "";
      rows.push([t("order_actions.preview.line", { name: line.name, count: line.quantity }), figure]);
    }
    for (const name of ["subtotal", "tax", "shipping"]) {
      if (amounts[name] !== undefined) rows.push([t(`order_actions.preview.${name}`), amounts[name]]);
    }
    if (action.amount_text) rows.push([t("order_actions.preview.total"), action.amount_text]);
    const table = element("dl", { className: "preview-figures" });
    for (const [name, value] of rows) table.append(element("dt", { text: name }), element("dd", { text: value }));
    const parts = [element("h4", { text: t("order_actions.preview.heading") }), element("p", { text: action.summary })];
    if (rows.length) parts.push(table);
    for (const line of action.preview.address_lines || []) parts.push(element("p", { className: "address-line", text: line }));
    const tracking = action.preview.tracking;
    if (tracking && tracking.number) {
      parts.push(element("p", { className: "tracking-line", text: [tracking.company, tracking.number].filter(Boolean).join(" ") }));
    }
    for (const warning of action.preview.warnings || []) {
      parts.push(element("p", { className: "warning", text: t(`order_actions.warning.${warning}`) }));
    }
    if (action.needs_approval) parts.push(element("p", { className: "warning", text: t("order_actions.needs_approval") }));
    parts.push(element("p", { className: "muted", text: t("order_actions.confirm_hint") }));
    preview.replaceChildren(...parts);
    preview.hidden = false;
  }

  async confirm() {
    const current = this.current;
    if (!current || !current.token) return;
    this.confirmButton.disabled = true;
    this.previewButton.disabled = true;
    showError(field(this.dialog, "error"), "");
    try {
      const action = await request("POST", `/order-action-confirmations${query({ locale })}`, { token: current.token });
      if (this.current !== current) return;
      current.token = null;
      this.confirmButton.hidden = true;
      this.previewButton.hidden = true;
      this.outcome(action);
      this.attach(current.card, current.order);
      this.onDone(current.order);
    } catch (error) {
      if (this.current === current) {
        showError(field(this.dialog, "error"), errorText(error));
        this.confirmButton.disabled = false;
        this.previewButton.disabled = false;
      }
    }
  }

  outcome(action) {
    const node = field(this.dialog, "outcome");
    node.hidden = !action;
    if (!action) {
      node.replaceChildren();
      delete node.dataset.status;
      return;
    }
    node.dataset.status = action.status;
    // the summary carries Shopify's refusal in words when it refused
    node.replaceChildren(
      element("strong", { text: t(`order_actions.outcome.${action.status}`) }),
      element("p", { text: action.summary }),
    );
  }
}
