"""Protocol clients for outside services. Nothing here imports ``shop_app``."""
