"""LINE Messaging API: webhook signatures, webhook events, message builders and an API client."""
