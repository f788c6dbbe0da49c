"""Helpdesks merchants already run (Chatwoot, Zendesk): per-shop connections, the bot inside them, the
profile card they frame.
"""
