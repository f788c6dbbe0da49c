"""Background work: tasks named after what they do, run by an in-process queue (embedded default) or by
procrastinate workers on PostgreSQL (``shop-app worker``)."""
