"""Print the settings `scripts/run-gateway.sh` needs as shell assignments (validated first,
so a bad variable stops `make run` with its name)."""

import shlex
import sys

from config.settings import load_settings
from gateway.errors import ConfigError

try:
    s = load_settings()
except ConfigError as exc:
    print(f"echo {shlex.quote(f'configuration error: {exc}')} >&2; exit 2")
    sys.exit(0)
for var, value in {
    "REDIS_URL": s.redis_url,
    "GATEWAY_HOST": s.host,
    "GATEWAY_PORT": s.port,
    "GATEWAY_WEB_WORKERS": s.web_workers,
    "GATEWAY_JOB_WORKERS": s.job_workers,
    "GATEWAY_QUEUE": s.queue_name,
    "GATEWAY_OUTBOUND": s.outbound,
}.items():
    print(f"{var}={shlex.quote(str(value))}")
