"""A simulated Zendesk Support account: the Tickets API (tickets, comments, tags, users, groups) with
Zendesk's error shapes and rate limits, webhook delivery from triggers with Zendesk's signature, an app's
public key, and an agent's ticket page that loads a Support app's sidebar with a signed URL.

It stands where Zendesk stands and never imports the app (``shop_app``), its protocol clients
(``integrations``), the simulated store (``devstore``) or LINE (``devline``).
"""
