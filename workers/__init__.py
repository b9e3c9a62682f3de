"""RQ jobs and the worker's periodic work."""
