"""The helpdesk's running app with two shops (their admins, agents and API keys) for the Insights tests."""

from tests.helpdesk.conftest import Desk, desk

__all__ = ["Desk", "desk"]
