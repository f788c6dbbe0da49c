"""The one-machine development setup: the simulated store and the app together, with demo data."""
