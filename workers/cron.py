"""Periodic work for `rq cron workers/cron.py` (started by `make run`)."""

from rq import cron

from config.settings import load_settings
from workers.jobs import sweep

settings = load_settings()
# Often enough that work lost with Redis waits at most about a minute beyond sweep_after.
cron.register(sweep, settings.queue_name, interval=30, result_ttl=0)
