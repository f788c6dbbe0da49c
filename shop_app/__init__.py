"""Order, shipment and stock context for every support conversation of a Shopify store."""
