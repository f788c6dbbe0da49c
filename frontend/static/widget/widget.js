// The storefront chat widget: one <script src=".../widget.js" data-proxy="/apps/support" defer> tag.
// It speaks to the app only through the shop's app proxy (same origin as the storefront), keeps its
// session token in sessionStorage, lives in a Shadow DOM so the theme's CSS cannot reach it, and inserts
// every message as text (links only for http and https URLs).
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.__shopAppChat) return;
  window.__shopAppChat = true;
  const proxy = (script.dataset.proxy || "/apps/support").replace(/\/$/, "");
  const language = (document.documentElement.lang || navigator.language || "en").toLowerCase().startsWith("ja") ? "ja" : "en";
  const TEXT = {
    ja: {
      open: "チャットで問い合わせ", title: "お問い合わせ", close: "閉じる", send: "送信",
      placeholder: "ご用件をご入力ください（例：注文#1001はいつ届きますか？）",
      name: "お名前", email: "メールアドレス（任意）",
      hello: "こんにちは。ご注文の配送状況や在庫についてお答えします。",
      failed: "送信できませんでした。しばらくしてからもう一度お試しください。",
      busy: "送信が多すぎます。少し待ってからお試しください。",
      expired: "チャットの有効期限が切れました。新しく始めてください。",
      agent: "担当", bot: "自動応答", you: "あなた",
    },
    en: {
      open: "Chat with us", title: "Support", close: "Close", send: "Send",
      placeholder: "How can we help? (e.g. where is order #1001?)",
      name: "Your name", email: "Email (optional)",
      hello: "Hello! I can tell you where your order is and whether an item is in stock.",
      failed: "The message could not be sent. Please try again shortly.",
      busy: "Too many messages; please wait a moment.",
      expired: "This chat has expired. Please start a new one.",
      agent: "Team", bot: "Assistant", you: "You",
    },
  }[language];
  const STORE_KEY = `shop-app-chat:${proxy}`;
  const POLL_MS = Number(script.dataset.pollMs || 4000);
  const cssUrl = new URL("widget.css", script.src).href;

  const host = document.createElement("div");
  host.id = "shop-app-chat";
  const root = host.attachShadow({ mode: "open" });
  const el = (tag, attrs = {}, text) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const style = el("link", { rel: "stylesheet", href: cssUrl });
  const launcher = el("button", { type: "button", class: "launcher", "data-role": "launcher", "aria-expanded": "false" }, TEXT.open);
  const panel = el("section", { class: "panel", "data-role": "panel", role: "dialog", "aria-label": TEXT.title, hidden: "" });
  const header = el("header");
  header.append(el("strong", {}, TEXT.title));
  const close = el("button", { type: "button", class: "close", "data-role": "close", "aria-label": TEXT.close }, "×");
  header.append(close);
  const list = el("ol", { class: "messages", "data-role": "messages", "aria-live": "polite" });
  const visitor = el("div", { class: "visitor", "data-role": "visitor", hidden: "" });
  const nameInput = el("input", { name: "name", maxlength: "255", placeholder: TEXT.name, "aria-label": TEXT.name });
  const emailInput = el("input", { name: "email", type: "email", maxlength: "320", placeholder: TEXT.email, "aria-label": TEXT.email });
  visitor.append(nameInput, emailInput);
  const form = el("form", { class: "compose", "data-role": "compose" });
  const input = el("textarea", { name: "message", rows: "2", maxlength: "2000", placeholder: TEXT.placeholder, "data-role": "input", "aria-label": TEXT.placeholder });
  const send = el("button", { type: "submit", "data-role": "send" }, TEXT.send);
  const notice = el("p", { class: "notice", "data-role": "notice", hidden: "" });
  form.append(input, send);
  // the bot's yes/no when it restated an order action: a tap sends the word, as if typed
  const choicesRow = el("div", { class: "choices", "data-role": "choices", hidden: "" });
  panel.append(header, list, notice, visitor, choicesRow, form);
  root.append(style, launcher, panel);

  let saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "{}"); } catch { saved = {}; }
  let token = typeof saved.token === "string" ? saved.token : "";
  let lastId = 0;
  let timer = 0;
  let sending = false;
  const shown = new Set();

  const remember = () => sessionStorage.setItem(STORE_KEY, JSON.stringify({ token }));
  const say = (text) => { notice.textContent = text || ""; notice.hidden = !text; };

  function appendText(parent, text) {
    // Only absolute http(s) URLs become links; everything else, including other schemes, stays text.
    const pattern = /https?:\/\/[^\s<>"'　]+/g;
    let at = 0;
    for (const match of text.matchAll(pattern)) {
      parent.append(document.createTextNode(text.slice(at, match.index)));
      let url = null;
      try { url = new URL(match[0]); } catch { url = null; }
      if (url && (url.protocol === "http:" || url.protocol === "https:")) {
        const link = el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer" }, match[0]);
        parent.append(link);
      } else {
        parent.append(document.createTextNode(match[0]));
      }
      at = match.index + match[0].length;
    }
    parent.append(document.createTextNode(text.slice(at)));
  }

  function render(messages) {
    for (const message of messages) {
      if (shown.has(message.id)) continue;
      shown.add(message.id);
      lastId = Math.max(lastId, message.id);
      const item = el("li", { class: `message ${message.author}`, "data-author": message.author, "data-id": String(message.id) });
      const who = message.author === "customer" ? TEXT.you : message.author === "bot" ? TEXT.bot : (message.author_name || TEXT.agent);
      item.append(el("span", { class: "who" }, who));
      const body = el("p", { class: "body" });
      appendText(body, String(message.body));
      item.append(body);
      list.append(item);
    }
    list.scrollTop = list.scrollHeight;
  }

  function offer(choices) {
    const buttons = (Array.isArray(choices) ? choices : []).map((choice) => {
      const button = el("button", { type: "button", class: "choice", "data-role": "choice" }, String(choice.label));
      button.addEventListener("click", () => {
        if (sending) return;
        input.value = String(choice.text);
        form.requestSubmit();
      });
      return button;
    });
    choicesRow.replaceChildren(...buttons);
    choicesRow.hidden = !buttons.length;
  }

  // Shopify signs each proxied query with a timestamp in seconds and the app answers each signature
  // once, so every call carries a random `n`: two calls in the same second never share a signature.
  const nonce = () => Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");

  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers["X-Widget-Session"] = token;
    const url = new URL(`${proxy}${path}`, window.location.href);
    url.searchParams.set("n", nonce());
    const response = await fetch(url.pathname + url.search, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    return { status: response.status, data };
  }

  function forget() {
    token = ""; lastId = 0; shown.clear(); list.replaceChildren(); remember();
  }

  async function poll() {
    if (!token || panel.hidden) return;
    const { status, data } = await call("GET", `/messages?after=${lastId}`).catch(() => ({ status: 0, data: {} }));
    if (status === 200) { render(data.messages || []); offer(data.choices); }
    else if (status === 401) { forget(); say(TEXT.expired); await hello(); }
  }

  async function hello() {
    const { status, data } = await call("GET", "/hello").catch(() => ({ status: 0, data: {} }));
    visitor.hidden = !(status === 200 && !data.signed_in) || Boolean(token);
    if (!list.children.length) {
      const greeting = el("li", { class: "message bot greeting", "data-author": "greeting" });
      greeting.append(el("p", { class: "body" }, TEXT.hello));
      list.append(greeting);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || sending) return;
    sending = true; send.disabled = true; say("");
    try {
      let result;
      if (token) {
        result = await call("POST", `/messages?after=${lastId}`, { message: text, language });
      } else {
        result = await call("POST", "/conversations", {
          message: text, language, name: nameInput.value.trim() || undefined, email: emailInput.value.trim() || undefined,
        });
        if (result.status === 201) { token = result.data.session; remember(); visitor.hidden = true; }
      }
      if (result.status === 201) { input.value = ""; render(result.data.messages || []); offer(result.data.choices); }
      else if (result.status === 429) say(TEXT.busy);
      else if (result.status === 409) say(TEXT.failed);
      else if (result.status === 401 && token) { forget(); say(TEXT.expired); }
      else say((result.data.error && result.data.error.message) || TEXT.failed);
    } catch { say(TEXT.failed); }
    finally { sending = false; send.disabled = false; input.focus(); }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });
  const toggle = async (open) => {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    clearInterval(timer);
    if (open) {
      await hello();
      await poll();
      timer = setInterval(poll, POLL_MS);
      input.focus();
    }
  };
  launcher.addEventListener("click", () => toggle(panel.hidden));
  close.addEventListener("click", () => toggle(false));
  document.body.append(host);
})();
