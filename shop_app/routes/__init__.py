"""HTTP surfaces, one module each. Routes parse and authenticate; services do the work."""
