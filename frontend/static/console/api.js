// The console's calls to /api/v1: JSON in and out, the CSRF header on writes, sign-in again on 401.
import { has, t } from "./i18n.js";

const base = document.body.dataset.api || "/api/v1";
const loginUrl = document.body.dataset.loginUrl || "/console/login";
let csrfToken = "";
// The session's first load, which brings the CSRF token: a write made before it ends waits for it (a
// sign-out clicked as the page opens would otherwise be refused, and the session would stay open).
let sessionLoad = null;
// Set once the agent signs out: no new call starts, and the sign-out waits for the calls in flight to end
// before it ends the session (a call that reached the server after it would be answered 401, which the
// browser reports as an error, and would send the browser to sign in as if the session had expired).
let signingOut = false;
const inFlight = new Set();

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The catalogue's words for an error when it has them, else the server's own message.
export function errorText(error) {
  if (error instanceof ApiError) {
    if (has(`error.${error.code}`)) return t(`error.${error.code}`);
    return error.message || t("error.generic", { status: error.status });
  }
  return t("error.generic", { status: "?" });
}

export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") {
    if (!csrfToken && sessionLoad) await sessionLoad.catch(() => {});
    headers["X-CSRF-Token"] = csrfToken;
  }
  if (signingOut && !(method === "DELETE" && path === "/session")) {
    throw new ApiError(401, "not_signed_in", t("login.expired"));
  }
  let response;
  const call = fetch(base + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  inFlight.add(call);
  try {
    response = await call;
  } catch {
    throw new ApiError(0, "network", t("error.network"));
  } finally {
    inFlight.delete(call);
  }
  if (response.status === 401) {
    if (!signingOut) window.location.assign(`${loginUrl}?expired=1`);
    throw new ApiError(401, "not_signed_in", t("login.expired"));
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(response.status, error.code || "error", error.message || "");
  }
  return data;
}

export const get = (path) => request("GET", path);

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export function loadSession() {
  sessionLoad = get("/session").then((session) => {
    csrfToken = session.csrf_token;
    return session;
  });
  return sessionLoad;
}

export async function signOut() {
  signingOut = true;
  await Promise.allSettled([...inFlight]);
  try {
    await request("DELETE", "/session");
  } finally {
    window.location.assign(loginUrl);
  }
}
