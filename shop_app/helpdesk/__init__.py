"""The helpdesk: tickets and messages, contacts and customer matching, profiles, agents, API keys."""
