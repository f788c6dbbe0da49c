"""Pages a shopper opens from a link we sent: a back-in-stock subscription to confirm or cancel, a
satisfaction question to answer. Each link is signed; one module per page, each exporting ``routes``."""
