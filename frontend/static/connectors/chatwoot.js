// The card as a Chatwoot dashboard app: Chatwoot posts JSON.stringify({event: "appContext", data:
// {conversation, contact, currentAgent}}) on load and when asked with "chatwoot-dashboard-app:fetch-info".
// Every message is checked: from the configured Chatwoot origin only, a string, that JSON shape; anything
// else is ignored. What it says is unsigned: it only chooses whom the card shows.
import { fromHost, show } from "./card.js";

const FETCH_INFO = "chatwoot-dashboard-app:fetch-info";

window.addEventListener("message", (event) => {
  if (!fromHost(event) || typeof event.data !== "string") return;
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return;
  }
  if (!message || message.event !== "appContext" || typeof message.data !== "object" || !message.data) return;
  const conversation = message.data.conversation || {};
  const contact = message.data.contact || {};
  show({
    conversation_id: Number.isInteger(conversation.id) ? String(conversation.id) : null,
    email: typeof contact.email === "string" ? contact.email : null,
    phone: typeof contact.phone_number === "string" ? contact.phone_number : null,
  });
});

// ask again (a reload of the frame): Chatwoot answers only while the app's tab is visible
if (window.parent !== window) window.parent.postMessage(FETCH_INFO, document.body.dataset.origin);
