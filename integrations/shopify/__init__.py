"""Shopify's protocols: OAuth, session tokens, signatures and the Admin GraphQL API.

Pure protocol code with no storage and no global state; the app decides what to store and which status
to answer with. Nothing here imports ``shop_app``.
"""
