// The customer sidebar: why the ticket is linked (or not), the controls to link, unlink, match again or
// pick another customer, and the profile: customer facts, orders with items and stock, shipments with
// tracking links, earlier tickets, "as of". Money and dates arrive formatted by the server.
import { errorText, get, query, request } from "./api.js";
import { element, externalLink, field, fromTemplate, role, safeHttpUrl, setText, showError, timeText } from "./dom.js";
import { locale, t } from "./i18n.js";
import { ids } from "./live.js";
import { OrderActions } from "./order_actions.js";

const REFETCH_DELAY_MS = 150;

function intersects(wanted, have) {
  for (const id of have) if (wanted.has(String(id))) return true;
  return false;
}

function word(node, value) {
  node.textContent = value ? value.text : "";
  node.hidden = !value;
  if (value) node.dataset.code = String(value.code).toLowerCase();
  return node;
}

export class CustomerPanel {
  constructor(root, { onTicketChanged }) {
    this.root = root;
    this.onTicketChanged = onTicketChanged;
    this.ticket = null;
    this.profile = null;
    this.loads = 0;
    this.refetchTimer = null;
    this.error = role(root, "link-error");
    this.actions = new OrderActions(role(document, "action-dialog"), {
      ticketId: () => (this.ticket ? this.ticket.id : null),
      onDone: () => this.ticket && this.loadProfile(false),
    });
    this.wire();
  }

  wire() {
    this.root.querySelector('[data-action="unlink"]').addEventListener("click", () =>
      this.changeLink("DELETE", "/link"),
    );
    this.root.querySelector('[data-action="rematch"]').addEventListener("click", () =>
      this.changeLink("POST", "/link/rematch"),
    );
    role(this.root, "customer-search").addEventListener("submit", (event) => {
      event.preventDefault();
      this.searchCustomers(event.target.elements.q.value.trim());
    });
  }

  // A ticket opened or changed. The profile is fetched again only when it is another ticket or the link
  // moved to another customer.
  showTicket(ticket) {
    const before = this.ticket;
    this.ticket = ticket;
    role(this.root, "sidebar").hidden = false;
    this.renderLink(ticket.link || {});
    const target = (link) => (link ? [link.customer_shopify_id, link.guest_email, link.guest_phone].join("|") : "");
    if (!before || before.id !== ticket.id) {
      role(this.root, "customer-results").replaceChildren();
      this.root.querySelector('[data-role="customer-search"] input').value = "";
      showError(this.error, "");
      this.loadProfile(true);
    } else if (target(before.link) !== target(ticket.link)) {
      this.loadProfile(false);
    }
  }

  renderLink(link) {
    const reason = link.reason;
    const badge = setText(this.root, "link-badge", "");
    if (!reason) {
      badge.textContent = t("badge.unlinked");
      badge.dataset.kind = "unlinked";
    } else if (reason.startsWith("guest_order") || !link.customer_shopify_id) {
      badge.textContent = t("badge.guest");
      badge.dataset.kind = "guest";
    } else {
      badge.textContent = t("badge.linked");
      badge.dataset.kind = "linked";
    }
    setText(this.root, "link-reason", reason ? link.reason_text || reason : t("link.unlinked"));
    const detail = [];
    if (link.guest_email || link.guest_phone) {
      detail.push(t("link.guest", { value: link.guest_email || link.guest_phone_display || link.guest_phone }));
    }
    if (link.linked_at) detail.push(t("link.linked_at", { time: timeText(link.linked_at) }));
    if (link.linked_by) detail.push(t("link.linked_by", { name: link.linked_by.name }));
    setText(this.root, "link-detail", detail.join(" · "));
    const candidates = link.candidates || [];
    role(this.root, "candidates").hidden = !(candidates.length && !reason);
    role(this.root, "candidate-list").replaceChildren(...candidates.map((customer) => this.choice(customer)));
    this.root.querySelector('[data-action="unlink"]').hidden = !reason;
  }

  choice(customer) {
    const item = fromTemplate("customer-choice");
    item.dataset.customerId = String(customer.id);
    const phone = customer.phone_display || customer.phone;
    setText(item, "name", customer.name || customer.email || phone || String(customer.id));
    const detail = [customer.email, phone];
    if (customer.orders_count !== undefined && customer.orders_count !== null) {
      detail.push(t("link.orders_count", { count: customer.orders_count }));
    }
    setText(item, "detail", detail.filter(Boolean).join(" · "));
    field(item, "button").addEventListener("click", () =>
      this.changeLink("PUT", "/link", { customer_id: customer.id }),
    );
    return item;
  }

  async changeLink(method, path, body) {
    if (!this.ticket) return;
    showError(this.error, "");
    try {
      const ticket = await request(method, `/tickets/${this.ticket.id}${path}${query({ locale })}`, body);
      role(this.root, "customer-results").replaceChildren();
      this.onTicketChanged(ticket);
    } catch (error) {
      showError(this.error, errorText(error));
    }
  }

  async searchCustomers(q) {
    const results = role(this.root, "customer-results");
    showError(this.error, "");
    if (!q) {
      results.replaceChildren();
      return;
    }
    try {
      const found = await get(`/customers${query({ q })}`);
      results.replaceChildren(
        ...(found.customers.length
          ? found.customers.map((customer) => this.choice(customer))
          : [element("li", { className: "muted", text: t("link.no_results") })]),
      );
    } catch (error) {
      showError(this.error, errorText(error));
    }
  }

  async loadProfile(clear) {
    const ticketId = this.ticket.id;
    const load = ++this.loads;
    const status = role(this.root, "profile-status");
    if (clear) {
      this.profile = null;
      this.renderProfile(null);
      status.textContent = t("profile.loading");
    }
    try {
      const answer = await get(`/tickets/${ticketId}/profile${query({ locale })}`);
      if (load !== this.loads) return;
      this.profile = answer.profile;
      this.renderProfile(answer.profile);
    } catch (error) {
      if (load === this.loads) status.textContent = errorText(error);
    }
  }

  // Does a live event change what the sidebar shows?
  touches(kind, data) {
    const profile = this.profile;
    if (!profile) return false;
    const customerId = profile.customer ? profile.customer.id : null;
    if (kind === "customers.changed") return customerId !== null && ids(data.customer_ids).has(String(customerId));
    if (kind === "orders.changed") {
      if (customerId === null) return true; // guest orders: any order change may be one of theirs
      return (
        ids(data.customer_ids).has(String(customerId)) ||
        intersects(ids(data.order_ids), profile.orders.map((order) => order.id))
      );
    }
    if (kind === "stock.changed") {
      const variants = profile.orders.flatMap((order) => order.items.map((item) => item.variant_id));
      return intersects(ids(data.variant_ids), variants.filter((id) => id !== null && id !== undefined));
    }
    return false;
  }

  refetchSoon() {
    clearTimeout(this.refetchTimer);
    this.refetchTimer = setTimeout(() => this.ticket && this.loadProfile(false), REFETCH_DELAY_MS);
  }

  renderProfile(profile) {
    const status = role(this.root, "profile-status");
    const customerCard = role(this.root, "customer");
    const orders = role(this.root, "orders");
    const more = role(this.root, "more-orders");
    const earlier = role(this.root, "earlier-tickets");
    // how fresh Shopify's data is for this customer (not when it was read), and an unfinished first import
    role(this.root, "as-of").textContent = profile
      ? profile.as_of
        ? t("profile.as_of", { time: timeText(profile.as_of) })
        : t("profile.as_of_none")
      : "";
    const importing = role(this.root, "importing");
    importing.textContent = profile && profile.importing ? profile.importing.text : "";
    importing.hidden = !(profile && profile.importing);
    role(this.root, "profile-body").hidden = !profile;
    if (!profile) {
      status.textContent = t("profile.none");
      customerCard.hidden = true;
      orders.replaceChildren();
      more.hidden = true;
      earlier.replaceChildren();
      return;
    }
    status.textContent = "";
    this.renderCustomer(customerCard, profile);
    orders.replaceChildren(...profile.orders.map((order) => this.order(order)));
    if (!profile.orders.length) orders.append(element("li", { className: "muted", text: t("profile.no_orders") }));
    more.hidden = !profile.more_orders;
    more.textContent = profile.more_orders ? t("profile.more_orders", { count: profile.more_orders }) : "";
    earlier.replaceChildren(
      ...(profile.earlier_tickets.length
        ? profile.earlier_tickets.map((ticket) =>
            element(
              "li",
              {},
              element("a", { text: ticket.subject || t("list.no_subject"), attrs: { href: `#/tickets/${ticket.id}` } }),
              " ",
              element("span", { className: "muted", text: `${t(`status.${ticket.status}`)} · ${timeText(ticket.created_at)}` }),
            ),
          )
        : [element("li", { className: "muted", text: t("profile.no_earlier_tickets") })]),
    );
  }

  renderCustomer(card, profile) {
    const facts = role(card, "facts");
    const customer = profile.customer;
    card.hidden = false;
    if (!customer) {
      setText(card, "customer-name", t("profile.guest"));
      const guest = profile.guest || {};
      facts.replaceChildren(...this.facts([["profile.emails", guest.email], ["profile.phones", guest.phone_display || guest.phone]]));
      return;
    }
    setText(card, "customer-name", customer.name || (customer.emails || [])[0] || String(customer.id));
    facts.replaceChildren(
      ...this.facts([
        ["profile.emails", (customer.emails || []).join(", ")],
        ["profile.phones", (customer.phones_display || customer.phones || []).join(", ")],
        ["profile.spent", customer.amount_spent && customer.amount_spent.display],
        ["profile.orders_count", customer.orders_count],
        ["profile.first_order", timeText(customer.first_order_at)],
        ["profile.last_order", timeText(customer.last_order_at)],
        ["profile.tags", (customer.tags || []).join(", ")],
        ["profile.note", customer.note],
      ]),
    );
  }

  facts(pairs) {
    return pairs
      .filter(([, value]) => value !== null && value !== undefined && value !== "")
      .flatMap(([key, value]) => [element("dt", { text: t(key) }), element("dd", { text: value })]);
  }

  order(order) {
    const card = fromTemplate("order-card");
    card.dataset.orderId = String(order.id);
    setText(card, "name", order.name);
    setText(card, "total", order.total ? order.total.display : "");
    setText(card, "placed", t("order.placed", { time: timeText(order.created_at) }));
    word(field(card, "financial"), order.financial_status);
    word(field(card, "fulfillment"), order.fulfillment_status);
    const cancelled = field(card, "cancelled");
    cancelled.hidden = !order.cancelled_at;
    if (order.cancelled_at) cancelled.textContent = t("order.cancelled", { time: timeText(order.cancelled_at) });
    field(card, "items").replaceChildren(...order.items.map((item) => this.item(item)));
    if (order.shipping_address && order.shipping_address.lines.length) {
      field(card, "address-block").hidden = false;
      setText(card, "address", order.shipping_address.lines.join("\n"));
    }
    if (order.delivery && (order.delivery.date || order.delivery.slot)) {
      const parts = [];
      if (order.delivery.date) parts.push(t("order.delivery_date", { date: order.delivery.date }));
      if (order.delivery.slot) parts.push(t("order.delivery_slot", { slot: order.delivery.slot }));
      const delivery = setText(card, "delivery", `${t("order.delivery")}: ${parts.join(" · ")}`);
      delivery.hidden = false;
    }
    const shipments = field(card, "shipments");
    shipments.replaceChildren(...order.shipments.map((shipment) => this.shipment(shipment)));
    if (!order.shipments.length) shipments.append(element("li", { className: "muted", text: t("order.no_shipments") }));
    this.actions.attach(card, order);
    return card;
  }

  item(item) {
    const title = item.variant_title ? `${item.title} — ${item.variant_title}` : item.title;
    const node = element(
      "li",
      { className: "item" },
      element("span", { className: "item-title", text: title }),
      " ",
      element("span", { className: "muted", text: t("order.quantity", { count: item.quantity }) }),
    );
    if (item.sku) node.append(" ", element("span", { className: "muted sku", text: t("order.sku", { sku: item.sku }) }));
    const gone = item.current_quantity === null || item.current_quantity === undefined ? 0 : item.quantity - item.current_quantity;
    if (gone > 0) node.append(" ", element("span", { className: "refunded", text: t("order.refunded_quantity", { count: gone }) }));
    node.append(this.stock(item.stock));
    if (item.variant_id && item.stock && String(item.stock.level.code).toUpperCase() === "SOLD_OUT") {
      node.append(this.backInStock(item.variant_id));
    }
    return node;
  }

  // 入荷お知らせ for a sold-out variant: the ticket's shopper is told once on their channel when it is back.
  backInStock(variantId) {
    const status = element("span", { className: "muted back-in-stock-status", attrs: { role: "status" } });
    const button = element("button", {
      className: "link-button",
      text: t("stock_alert.offer"),
      attrs: { type: "button", "data-action": "back-in-stock", "data-variant-id": String(variantId) },
    });
    button.addEventListener("click", async () => {
      if (!this.ticket) return;
      button.disabled = true;
      try {
        const done = await request("POST", `/tickets/${this.ticket.id}/stock-subscriptions`, { variant_id: variantId });
        const channel = t(`stock_alert.channel.${done.channel}`);
        const key = done.status === "pending" ? "stock_alert.pending" : done.created ? "stock_alert.done" : "stock_alert.already";
        status.textContent = t(key, { channel });
      } catch (error) {
        status.textContent = errorText(error);
        button.disabled = false;
      }
    });
    return element("span", { className: "back-in-stock" }, button, " ", status);
  }

  stock(stock) {
    const node = element("span", { className: "stock" });
    if (!stock) {
      node.textContent = t("order.stock_unknown");
      node.dataset.level = "unknown";
      return node;
    }
    node.dataset.level = String(stock.level.code).toLowerCase();
    const available = stock.available === null || stock.available === undefined ? "–" : stock.available;
    let text = t("order.stock", { level: stock.level.text, available });
    if (stock.incoming) text += ` · ${t("order.stock_incoming", { count: stock.incoming })}`;
    node.textContent = text;
    if (stock.locations && stock.locations.length) {
      node.title = stock.locations.map((place) => `${place.name}: ${place.available ?? "–"}`).join("\n");
    }
    return node;
  }

  shipment(shipment) {
    const node = fromTemplate("shipment-item");
    node.dataset.shipmentId = String(shipment.id);
    word(field(node, "status"), shipment.status);
    setText(node, "carrier", shipment.carrier || t("shipment.carrier_unknown"));
    field(node, "tracking").replaceChildren(
      ...shipment.tracking.map((tracking) => {
        const href = safeHttpUrl(tracking.url);
        const entry = element("li", { className: "tracking-number" });
        if (tracking.company && tracking.company !== shipment.carrier) entry.append(`${tracking.company} `);
        if (href) entry.append(externalLink(href, tracking.number));
        else entry.append(element("span", { text: tracking.number }), " ", element("span", { className: "muted", text: `(${t("shipment.no_link")})` }));
        return entry;
      }),
    );
    if (shipment.estimated_delivery_at) {
      const estimated = setText(node, "estimated", t("shipment.estimated", { time: timeText(shipment.estimated_delivery_at) }));
      estimated.hidden = false;
    }
    if (shipment.delivered_at) {
      const delivered = setText(node, "delivered", t("shipment.delivered", { time: timeText(shipment.delivered_at) }));
      delivered.hidden = false;
    }
    if (shipment.last_event) {
      const event = shipment.last_event;
      const parts = [event.status ? event.status.text : "", timeText(event.at), event.message || ""];
      const last = setText(node, "last-event", `${t("shipment.last_event")}: ${parts.filter(Boolean).join(" · ")}`);
      last.hidden = false;
    }
    return node;
  }
}
