"""The versioned API (``/api/v1``) for the agent console, bots and other helpdesks."""
