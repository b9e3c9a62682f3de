"""The jobs the cron scheduler runs (`python -m workers.scheduler`, started by `make run`; one
scheduler at a time across hosts, see workers.leader)."""

from rq import cron

from config.settings import load_settings
from gateway.logconfig import configure_logging
from workers.jobs import deliver_webhooks, sla_clock, sweep

settings = load_settings()
# RQ's cron scheduler gave its logger a handler of its own before loading this file.
configure_logging(settings)
# Often enough that work lost with Redis waits at most about a minute beyond sweep_after.
cron.register(sweep, settings.queue_name, interval=settings.sweep_interval, result_ttl=0)
# The SLA clock (gateway.services.sla): closing is idempotent, every 15 minutes is plenty.
cron.register(sla_clock, settings.queue_name, interval=900, result_ttl=0)
# Webhooks to the complaint system that are due (first tries are enqueued at once; this
# catches retries whose scheduled job was lost with Redis).
cron.register(deliver_webhooks, settings.queue_name, interval=60, result_ttl=0)
