// Sign-in: posts the shop, email and password to the session endpoint, which sets the session cookie.
import { locale, t } from "./i18n.js";

const form = document.querySelector('[data-role="login"]');
const error = form.querySelector('[data-role="error"]');
const button = form.querySelector('button[type="submit"]');
const SHOP_KEY = "console.shop";

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
}

// Too many failed sign-ins: how long to wait, from the answer's Retry-After (seconds).
function throttledText(response) {
  const seconds = Math.max(1, Number.parseInt(response.headers.get("Retry-After") || "", 10) || 1);
  if (seconds < 120) return t("login.throttled_seconds", { seconds });
  return t("login.throttled_minutes", { minutes: Math.ceil(seconds / 60) });
}

if (!form.elements.shop.value) form.elements.shop.value = window.localStorage.getItem(SHOP_KEY) || "";
if (new URLSearchParams(window.location.search).has("expired")) showError(t("login.expired"));
(form.elements.shop.value ? form.elements.email : form.elements.shop).focus();

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const shop = form.elements.shop.value.trim().toLowerCase();
  showError("");
  button.disabled = true;
  button.textContent = t("login.working");
  try {
    const response = await fetch(form.dataset.sessionUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      // the language this page is shown in becomes the agent's: the console opens in it
      body: JSON.stringify({
        shop,
        email: form.elements.email.value.trim(),
        password: form.elements.password.value,
        locale,
      }),
    });
    if (response.ok) {
      window.localStorage.setItem(SHOP_KEY, shop);
      window.location.assign(form.dataset.consoleUrl);
      return;
    }
    const body = await response.json().catch(() => null);
    const code = body && body.error ? body.error.code : "";
    if (response.status === 429) showError(throttledText(response));
    else if (response.status === 401 || code === "invalid_credentials") showError(t("login.failed"));
    else showError((body && body.error && body.error.message) || t("error.generic", { status: response.status }));
  } catch {
    showError(t("error.network"));
  } finally {
    button.disabled = false;
    button.textContent = t("login.submit");
  }
});
