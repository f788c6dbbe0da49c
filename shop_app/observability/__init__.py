"""What every layer records about itself for whoever runs the app: its metrics (``metrics``). Like
logging, it sits at the bottom of the layers, so the mirror, the bot and the channels record where the
thing happens; ``shop_app.operations.metrics`` exposes them."""
