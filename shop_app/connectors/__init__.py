"""Connectors: the bot and the profile card inside helpdesks merchants already run (Chatwoot, Zendesk).

``integrations/<vendor>/`` knows each helpdesk's protocol (signatures, strict payload models, an httpx
client); this package decides storage and behaviour. The shared pieces:

- ``storage``: the shop's connector (base URL, account, non-secret settings, secrets as one Fernet
  ciphertext never shown again, paused flag, the last "test connection"), reached only through
  ``access_connector`` (another shop's id is a 404) or by its random inbound key.
- ``events``: an inbound call whose signature the vendor verified is stored once per delivery id (a replay
  stores nothing) and applied by a job (``TaskName.PROCESS_CONNECTOR_EVENTS``), after the helpdesk got its
  answer; a sweep picks up those whose job was lost.
- ``conversations``: the ticket of ours that mirrors an external conversation (its id, inbox, status), so
  the bot's decisions, verification attempts and analytics work as on our own channels.
- ``cards``: the profile card page (the console sidebar's data, the agent's language, live, framed only by
  the helpdesk's origin) and the short-lived card token its script uses.
- ``registry``: what a vendor module supplies.

How a vendor module plugs in (Chatwoot is the worked example, ``shop_app/connectors/chatwoot.py``):

1. Write ``shop_app/connectors/<vendor>.py`` with an object satisfying ``registry.Vendor``:
   ``name`` (a ``ConnectorVendor``), ``fields`` (the admin form's settings and secrets, ``FormField``),
   ``origin(connector)`` (the helpdesk origin allowed to frame the card and to post to it),
   ``setup_urls(settings, connector)`` (the addresses the merchant pastes into the helpdesk),
   ``check(services, connector, secrets)`` → ``CheckResult`` (the "test connection"),
   ``verify(inbound, secrets, now)`` → ``Verified`` or ``Refused`` (pure: constant-time signature or token
   check BEFORE parsing; called with ``secrets=None`` for an unknown key, doing the same work),
   ``reads_first`` and ``prepare(services, connector=, event=)`` → the event with what the helpdesk's
   API must say first (called outside any transaction, so no lock waits on the network; Chatwoot's events
   carry everything: ``reads_first = False``), ``apply(services, session, connector=, shop=, event=)``
   → an ``AfterCommit``
   (the bot's turn for one stored event, inside the transaction that marks it done; the returned
   callable runs after the commit: send, publish), and ``card_viewer(services, inbound)`` →
   ``CardViewer | None`` (authenticates the card page's request the vendor's way, e.g. a signed URL key
   or a signed JWT).
2. Add it to ``shop_app/connectors/vendors.py`` (one line).
3. Its outbound messages ride the outbox: register a sender for its ``Channel`` in ``jobs/tasks.py``
   (``outbound.register_sender(Channel.<VENDOR>, <sender>)``).
4. Add the form's words (``admin.connectors.<vendor>.*``) to both catalogues, and the card's host script
   ``frontend/static/connectors/<vendor>.js`` (how the host hands the conversation to the card).

The routes are shared: ``POST /connectors/{vendor}/hook/{inbound_key}`` (inbound calls),
``GET|POST /connectors/{vendor}/card`` (the card page), ``POST /connectors/card/profile`` (its data), and
the embedded admin page ``/app/connectors``.
"""
