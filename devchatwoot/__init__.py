"""A simulated Chatwoot for development and tests, built from Chatwoot's documented payloads and API:
accounts, inboxes, contacts, conversations, messages, agent bots (signed webhook delivery), the
Application API a bot and a user call, and an agent's conversation page that frames dashboard apps the way
Chatwoot does. It imports nothing of the app, its protocols or the simulated store."""
