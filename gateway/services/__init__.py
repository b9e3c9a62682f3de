"""The service layer: what the gateway does, called by the web routes and the RQ jobs."""
