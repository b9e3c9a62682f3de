"""gunicorn settings of the receiver in production (deploy/systemd/lapor-gateway.service):

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Sync workers, behind the nginx of deploy/nginx/: a sync worker is held by one connection from
accept to the last byte, so it must only ever talk to a proxy that has already read the whole
request (gunicorn's own deployment docs say the same). Never expose this port to the network.
Settings come from the same environment as the app (/etc/lapor-gateway/env); the whole
configuration is validated here, before any worker forks, so a bad variable stops the start.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.settings import load_settings  # noqa: E402

_settings = load_settings()

# Loopback only: nginx on the same host is the only client. A unix socket works as well
# (`bind = "unix:/run/lapor-gateway/gunicorn.sock"`, RuntimeDirectory= in the unit, nginx's
# user in the socket's group); TCP on 127.0.0.1 is easier to check with curl.
bind = f"{_settings.host}:{_settings.port}"
workers = _settings.web_workers  # about 2 x cores; each request is one short INSERT
worker_class = "sync"
# A request that takes longer than this is a stuck worker: it is killed and replaced. nginx
# gives up a little later (proxy_read_timeout 35s) so its 504 names the cause.
timeout = 30
graceful_timeout = 30  # a stop or a HUP lets requests in progress finish
keepalive = 2
backlog = 2048  # connections nginx may queue while every worker is busy
# Recycle workers now and then, so a slow leak never grows for weeks.
max_requests = 20000
max_requests_jitter = 2000
# Only the local nginx may say the request came over https (X-Forwarded-Proto); the app's
# ProxyFix (GATEWAY_TRUSTED_PROXIES=1) takes the public host, port and client address.
forwarded_allow_ips = "127.0.0.1,::1"
# Access log on stdout (the journal). %(U)s is the path WITHOUT the query string: Kannel's
# get-url puts the inbound secret in `?token=`, which must never reach a log.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
errorlog = "-"
# gunicorn's own lines (errors, access) in the gateway's log format (GATEWAY_LOG_FORMAT).
logger_class = "gateway.weblog.GunicornLogger"
proc_name = "lapor-gateway"

# Metrics (prometheus-client multiprocess mode): when PROMETHEUS_MULTIPROC_DIR is set (the
# units' environment, one folder per host emptied at start), a dead worker's live gauges are
# forgotten. See README "Metrics".
from gateway.gunicorn_hooks import child_exit  # noqa: E402, F401
