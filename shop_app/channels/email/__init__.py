"""Email as a channel: each shop's support address and relay (``addresses``), mail in (``inbound``, by
the SMTP ``listener``), the bot's and agents' replies written as letters (``letters``) and sent through the
shop's relay (``sending``)."""
