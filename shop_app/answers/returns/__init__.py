"""Questions about returning the shopper's own order, answered from the shop's return window and the
order's facts (``window``)."""
