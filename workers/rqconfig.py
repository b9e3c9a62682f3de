"""Settings for the `rq` command line (`rq worker-pool -c workers.rqconfig ...`, `rq cron -c
workers.rqconfig ...`): RQ reads `DICT_CONFIG` before it logs anything, so the pool's and
the cron scheduler's own lines come out in the gateway's format too (the worker class and
workers/cron.py then configure their processes the same way, with control characters
escaped). Only upper-case names are RQ settings; the Redis URL still comes from `--url`."""

from config.settings import load_settings
from gateway.logconfig import logging_config

_settings = load_settings()
DICT_CONFIG = logging_config(_settings.log_level, _settings.log_format)
