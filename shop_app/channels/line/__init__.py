"""LINE as a channel: each shop's connection, the webhook inbox, the bot's turn for LINE events, the order
card, sending (reply token while valid, else push) and LINE's account-link flow."""
