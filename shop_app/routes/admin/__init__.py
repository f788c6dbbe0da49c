"""Embedded-admin pages added after the first ones: one module per page, each exporting ``routes``."""
