"""The API's back-in-stock part: an agent subscribes a ticket's shopper (``stock_subscriptions``)."""
