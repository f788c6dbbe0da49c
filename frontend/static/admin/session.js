// The embedded admin's calls to the app: with App Bridge loaded, shopify.idToken() gives a fresh session
// token; without it (App Bridge could not load), the id_token the page was first opened with.
export async function sessionToken() {
  if (window.shopify && typeof window.shopify.idToken === "function") {
    try {
      return await window.shopify.idToken();
    } catch (error) {
      console.warn("App Bridge could not give a session token", error);
    }
  }
  const status = document.getElementById("status");
  return (status && status.dataset.idToken) || "";
}

export class ApiError extends Error {}

// JSON in and out; a refused call throws ApiError with the API's own message.
export async function api(method, url, body) {
  const headers = { Authorization: `Bearer ${await sessionToken()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(data.error ? data.error.message : `Error ${response.status}`);
  return data;
}
