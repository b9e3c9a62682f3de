"""gunicorn's own logs (its error log and the access log) in the gateway's format.

`scripts/run-gateway.sh` starts gunicorn with `--logger-class gateway.weblog.GunicornLogger`:
gunicorn sets up its loggers as usual, then `configure_logging` gives them to the root
handler, so the master's and every worker's lines look like the app's. The access log keeps
gunicorn's `--access-logformat`; that format must print the path (`%(U)s`), never the query
(`%(q)s`, `%(r)s`): an aggregator that can only configure a URL sends the secret `?token=`.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from config.settings import load_settings
from gateway.logconfig import configure_logging


class GunicornLogger(Logger):
    """gunicorn's logger, printing through the gateway's logging configuration."""

    def setup(self, cfg) -> None:
        """gunicorn's set-up (levels, access log on or off), then the gateway's handlers."""
        super().setup(cfg)
        configure_logging(load_settings())
