"""The mirror of each store: backfill (paged and bulk), reads by id after webhooks, reconciliation, webhook
processing, the writes and the sync states."""
