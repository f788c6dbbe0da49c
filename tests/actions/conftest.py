"""The order actions' fixtures, shared by the agents' and the bot's tests."""

from tests.actions.test_order_actions import desk

__all__ = ["desk"]
