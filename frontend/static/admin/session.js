// The embedded admin's calls to the app. Inside the Shopify admin, App Bridge's shopify.idToken() gives a
// fresh session token; anywhere else (or when App Bridge could not load, or does not answer) the id_token
// the page was opened with. Nothing here waits on App Bridge for long.
import { has, t } from "./i18n.js";

const APP_BRIDGE_WAIT_MS = 5000;

export function inShopifyAdmin() {
  return window.top !== window.self && Boolean(window.shopify) && typeof window.shopify.idToken === "function";
}

export async function sessionToken() {
  if (inShopifyAdmin()) {
    try {
      const token = await Promise.race([
        window.shopify.idToken(),
        new Promise((resolve) => setTimeout(() => resolve(""), APP_BRIDGE_WAIT_MS)),
      ]);
      if (token) return token;
    } catch (error) {
      console.warn("App Bridge gave no session token", error);
    }
  }
  return document.body.dataset.idToken || "";
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// What to tell the merchant about a failed call, in their language (the API's own messages are English).
export function errorText(error) {
  if (!(error instanceof ApiError)) return t("admin.error.generic", { status: "?" });
  if (error.status === 0) return t("admin.error.network");
  if (error.status === 401) return t("admin.error.session");
  if (error.code === "invalid_template") {
    return t("admin.error.invalid_template", { detail: error.message.replace(/^[^:]*:\s*/, "") });
  }
  if (has(`admin.error.${error.code}`)) return t(`admin.error.${error.code}`);
  return t("admin.error.generic", { status: error.status });
}

// JSON in and out; a refused call throws ApiError with the API's code.
export async function api(method, url, body) {
  const headers = { Authorization: `Bearer ${await sessionToken()}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", "");
  }
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(response.status, error.code || "error", error.message || "");
  }
  return data;
}

// A GET whose answer is not JSON (a file, an HTML fragment): the response; a refused call throws ApiError.
export async function authorized(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Authorization: `Bearer ${await sessionToken()}` } });
  } catch {
    throw new ApiError(0, "network", "");
  }
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    throw new ApiError(response.status, (data.error && data.error.code) || "error", "");
  }
  return response;
}

// A file from the API (a customer data export), saved by the browser.
export async function download(url, filename) {
  const response = await authorized(url);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  link.click();
  URL.revokeObjectURL(link.href);
}
