"""Acting on orders (cancel, refund, address, hold, notes): preview, confirmation, Shopify's idempotent
mutation, permissions, approvals and audit.
"""
