// The profile card as a Zendesk Support app's sidebar: the page was opened with Zendesk's signed URL (checked
// on the server); the ticket on screen comes from the app framework (ZAF SDK, which itself talks only to the
// `origin` Zendesk named in the address). That origin must be this connector's Zendesk, or nothing is asked.
// The agent's own locale (`currentUser.locale`) is unsigned: it only chooses the card's language.
import { show, t } from "./card.js";

const params = new URLSearchParams(window.location.search);
const card = document.querySelector('[data-role="card"]');
const client =
  params.get("origin") === document.body.dataset.origin && window.ZAFClient ? window.ZAFClient.init() : null;

if (!client) {
  card.textContent = t("card.error");
} else {
  client
    .get(["ticket.id", "ticket.requester.email", "currentUser.locale"])
    .then((found) => {
      const locale = found["currentUser.locale"];
      show({
        conversation_id: String(found["ticket.id"]),
        email: found["ticket.requester.email"] ?? null,
        locale: typeof locale === "string" ? locale : null,
      });
    })
    .catch(() => {
      card.textContent = t("card.error");
    });
}
