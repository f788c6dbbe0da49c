"""Telling shoppers before they ask: back-in-stock subscriptions and proactive notices about late or stuck
parcels.
"""
