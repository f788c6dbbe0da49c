"""A simulated Shopify store: OAuth, Admin GraphQL, webhooks and a merchant's data, on one port.

It stands where Shopify stands and never imports the app (``shop_app``) or its protocol clients
(``integrations``).
"""

from __future__ import annotations
