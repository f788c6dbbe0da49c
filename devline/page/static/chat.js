// The simulated LINE user's phone: renders the conversation (text, stickers, images, Flex cards, quick
// replies, the loading animation) from the feed, and sends what the person does. Every string from the bot
// goes in through textContent or a checked URL: nothing is parsed as HTML.

const root = document.getElementById("chat");
const text = JSON.parse(root.dataset.text);
const feedUrl = root.dataset.feedUrl;
const actionsUrl = root.dataset.actionsUrl;
const conversation = root.querySelector('[data-role="conversation"]');
const empty = root.querySelector('[data-role="empty"]');
const typing = root.querySelector('[data-role="typing"]');
const quickReplies = document.querySelector('[data-role="quick-replies"]');
const form = document.querySelector('[data-role="send-form"]');
const notFriend = document.querySelector('[data-role="not-friend"]');
const errorLine = document.querySelector('[data-role="error"]');

let lastSeq = 0;
let lastEntry = null;
const SAFE_SCHEMES = ["http:", "https:", "tel:", "mailto:"];

function safeUrl(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value, window.location.href);
    return SAFE_SCHEMES.includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function element(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined && content !== null) node.textContent = String(content);
  return node;
}

async function act(spec) {
  errorLine.hidden = true;
  const response = await fetch(actionsUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(spec),
  });
  if (!response.ok) {
    errorLine.textContent = text.send_failed;
    errorLine.hidden = false;
  }
}

// What tapping an action does (message and postback actions send; uri actions are links).
function actionControl(action, className, label) {
  const uri = action && action.type === "uri" ? safeUrl(action.uri) : null;
  if (uri) {
    const link = element("a", className, label);
    link.href = uri;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.dataset.uri = uri;
    return link;
  }
  const button = element("button", className, label);
  button.type = "button";
  button.addEventListener("click", () => runAction(action));
  return button;
}

function runAction(action) {
  if (!action) return;
  if (action.type === "message") act({ type: "text", text: action.text });
  else if (action.type === "postback") act({ type: "postback", data: action.data, displayText: action.displayText || action.text });
}

function flexComponent(component) {
  if (!component || typeof component !== "object") return element("span");
  switch (component.type) {
    case "box": {
      const box = element("div", `flex-box ${["horizontal", "baseline"].includes(component.layout) ? component.layout : "vertical"}`);
      for (const child of Array.isArray(component.contents) ? component.contents : []) box.append(flexComponent(child));
      return box;
    }
    case "text": {
      const words = Array.isArray(component.contents) && component.contents.length
        ? component.contents.map((span) => (span && span.text) || "").join("")
        : component.text;
      const classes = ["flex-text"];
      if (component.weight === "bold") classes.push("bold");
      if (["xxs", "xs", "sm"].includes(component.size)) classes.push("small");
      if (["lg", "xl", "xxl", "3xl", "4xl", "5xl"].includes(component.size)) classes.push("large");
      return element("p", classes.join(" "), words);
    }
    case "button": {
      const action = component.action || {};
      const label = action.label || action.text || action.uri || "";
      return actionControl(action, `flex-button${component.style === "primary" ? " primary" : ""}`, label);
    }
    case "image":
    case "icon": {
      const src = safeUrl(component.url);
      if (!src) return element("span");
      const image = element("img", "flex-image");
      image.src = src;
      image.alt = "";
      return image;
    }
    case "separator":
      return element("hr", "flex-separator");
    default:
      return element("span");
  }
}

function flexBubble(bubble) {
  const card = element("div", "flex-card");
  card.dataset.role = "flex-card";
  for (const block of ["header", "hero", "body", "footer"]) {
    if (!bubble || !bubble[block]) continue;
    const section = element("div", `flex-${block}`);
    section.append(flexComponent(bubble[block]));
    card.append(section);
  }
  return card;
}

function botContent(message) {
  switch (message.type) {
    case "text":
      return element("div", "bubble", message.text);
    case "sticker":
      return element("div", "bubble sticker", "🙂");
    case "image": {
      const src = safeUrl(message.previewImageUrl);
      if (!src) return element("div", "bubble", text.image_sent);
      const image = element("img", "bubble");
      image.src = src;
      image.alt = "";
      return image;
    }
    case "flex": {
      const contents = message.contents || {};
      if (contents.type === "carousel") {
        const carousel = element("div", "flex-carousel");
        for (const bubble of Array.isArray(contents.contents) ? contents.contents : []) carousel.append(flexBubble(bubble));
        return carousel;
      }
      return flexBubble(contents);
    }
    case "template": {
      const card = element("div", "flex-card");
      const body = element("div", "flex-body");
      body.append(element("p", "flex-text", (message.template && message.template.text) || message.altText));
      for (const action of (message.template && message.template.actions) || []) body.append(actionControl(action, "flex-button", action.label));
      card.append(body);
      return card;
    }
    default:
      return element("div", "bubble", message.altText || `[${message.type}]`);
  }
}

function userContent(entry) {
  const message = entry.message;
  if (entry.via === "message" && entry.unsent) return element("div", "bubble unsent", text.unsent);
  if (entry.via === "message") {
    if (message.type === "text") return element("div", "bubble", message.text);
    if (message.type === "sticker") return element("div", "bubble sticker", "🙂");
    return element("div", "bubble", text.image_sent);
  }
  if (entry.via === "postback") return message.displayText ? element("div", "bubble", message.displayText) : null;
  return null;
}

const SYSTEM_LINES = { follow: "followed", unfollow: "unfollowed" };

function render(entry) {
  let item;
  if (entry.sender === "bot") {
    item = element("li", "bot");
    item.append(botContent(entry.message));
  } else if (entry.via in SYSTEM_LINES || entry.via === "accountLink") {
    item = element("li", "system");
    const key = entry.via === "accountLink" ? (entry.message.result === "ok" ? "linked" : "link_failed") : SYSTEM_LINES[entry.via];
    item.append(element("span", "", text[key]));
  } else if (entry.via === "unsend") {
    // the message it names leaves the phone: its bubble says it was unsent
    const shown = conversation.querySelector(`li[data-message-id="${CSS.escape(entry.message.messageId)}"]`);
    if (shown) shown.replaceChildren(element("div", "bubble unsent", text.unsent));
    return;
  } else {
    const content = userContent(entry);
    if (!content) return;
    item = element("li", "user");
    item.append(content);
    if (entry.via === "message") {
      item.dataset.messageId = entry.messageId;
      if (!entry.unsent) {
        const unsend = element("button", "unsend", text.unsend);
        unsend.type = "button";
        unsend.dataset.role = "unsend";
        unsend.addEventListener("click", () => act({ type: "unsend", messageId: entry.messageId }));
        item.append(unsend);
      }
    }
  }
  item.dataset.seq = entry.seq;
  item.dataset.sender = entry.sender;
  conversation.append(item);
}

function showQuickReplies() {
  quickReplies.replaceChildren();
  const items = lastEntry && lastEntry.sender === "bot" && lastEntry.message.quickReply && lastEntry.message.quickReply.items;
  for (const item of Array.isArray(items) ? items : []) {
    const action = item && item.action;
    if (!action) continue;
    const control = actionControl(action, "quick-reply", action.label);
    control.dataset.role = "quick-reply";
    control.addEventListener("click", () => quickReplies.replaceChildren());
    quickReplies.append(control);
  }
}

function setFollowing(following) {
  form.hidden = !following;
  notFriend.hidden = following;
}

async function poll(wait) {
  const response = await fetch(`${feedUrl}?after=${lastSeq}&wait=${wait}`, { cache: "no-store" });
  if (!response.ok) throw new Error(`feed ${response.status}`);
  const feed = await response.json();
  for (const entry of feed.entries) {
    render(entry);
    lastSeq = Math.max(lastSeq, entry.seq);
    lastEntry = entry;
  }
  if (feed.entries.length) {
    empty.hidden = true;
    showQuickReplies();
    root.scrollTop = root.scrollHeight;
  }
  typing.hidden = !feed.loading;
  setFollowing(feed.following);
}

async function listen() {
  let wait = 0;
  for (;;) {
    try {
      await poll(wait);
      wait = 5;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = form.elements.namedItem("text");
  const value = input.value.trim();
  if (!value) return;
  input.value = "";
  quickReplies.replaceChildren();
  act({ type: "text", text: value });
});
document.querySelector('[data-role="sticker"]').addEventListener("click", () => act({ type: "sticker" }));
document.querySelector('[data-role="image"]').addEventListener("click", () => act({ type: "image" }));
document.querySelector('[data-role="follow"]').addEventListener("click", () => act({ type: "follow" }));
document.querySelector('[data-role="unfollow"]').addEventListener("click", () => act({ type: "unfollow" }));

listen();
