"""Running the app: whether a process is ready for work (readiness), for load balancers and supervisors;
its backups; and its metrics as Prometheus scrapes them."""
