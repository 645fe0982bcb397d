"""Running Hookline as a process: starting its roles (API, worker, both), listening sockets,
signals, background upkeep, logs and metrics."""
