#!/usr/bin/env bash
# Starts the whole gateway on this host: the receiver (gunicorn), the RQ workers (with the
# scheduler that runs delayed retries) and the cron scheduler (the sweeper; workers.scheduler). Ctrl-C or
# SIGTERM stops everything it started. Called by `make run` inside the virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

# A local, per-install inbound secret when none is configured (environment or .env), so the
# embedded defaults work without a well-known password. Production sets GATEWAY_INBOUND_TOKEN.
if [ -z "${GATEWAY_INBOUND_TOKEN:-}" ] && ! grep -qs '^GATEWAY_INBOUND_TOKEN=' .env; then
  mkdir -p var
  [ -s var/dev-inbound-token ] || python -c 'import secrets; print(secrets.token_urlsafe(24))' > var/dev-inbound-token
  GATEWAY_INBOUND_TOKEN=$(cat var/dev-inbound-token)
  export GATEWAY_INBOUND_TOKEN
  echo "GATEWAY_INBOUND_TOKEN not set: using the local one in var/dev-inbound-token"
fi

# The same for the handler console's session key (/console): made once, kept in var/ so a
# restart does not log every handler out. Production sets GATEWAY_CONSOLE_SECRET.
if [ -z "${GATEWAY_CONSOLE_SECRET:-}" ] && ! grep -qs '^GATEWAY_CONSOLE_SECRET=' .env; then
  mkdir -p var
  [ -s var/dev-console-secret ] || python -c 'import secrets; print(secrets.token_urlsafe(32))' > var/dev-console-secret
  GATEWAY_CONSOLE_SECRET=$(cat var/dev-console-secret)
  export GATEWAY_CONSOLE_SECRET
fi

# Validate the configuration (names the bad variable) and read what this script needs.
eval "$(python -m config.show_shell)"

# Redis. One on this host (127.0.0.1 or localhost: the default URL, or another port for a
# second checkout) that does not answer is started here as a daemon, data in var/redis/<port>.
# It outlives Ctrl-C like a system Redis would (the workers need it to shut down cleanly, and
# the next `make run` finds it); stop it with `redis-cli -p <port> shutdown`. It keeps an
# append-only file: queued jobs, scheduled retries and USSD drafts survive its restart (the
# database keeps every message anyway, but without it a restart waits for the sweeper and
# loses drafts). A Redis elsewhere is never started for you.
redis_up() { python -c "from gateway.redisconn import redis_from_url; redis_from_url('$REDIS_URL', socket_connect_timeout=2).ping()" 2>/dev/null; }
if ! redis_up; then
  redis_port=$(python -c "from urllib.parse import urlparse; u = urlparse('$REDIS_URL'); print(u.port or 6379 if u.scheme == 'redis' and u.hostname in ('127.0.0.1', 'localhost') else '')")
  if [ -n "$redis_port" ] && command -v redis-server >/dev/null; then
    mkdir -p "var/redis/$redis_port"
    echo "gateway: Redis is not answering at $REDIS_URL; starting a local one (data in var/redis/$redis_port)"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --dir "var/redis/$redis_port" \
      --pidfile "$PWD/var/redis/$redis_port/redis.pid" --logfile redis.log \
      --save "" --appendonly yes --appendfsync everysec
    for _ in $(seq 50); do redis_up && break; sleep 0.1; done
  fi
  if ! redis_up; then
    cat >&2 <<MSG
Redis is not answering at $REDIS_URL.$([ -n "$redis_port" ] && echo " (Starting a local one failed: is redis-server installed? See var/redis/$redis_port/redis.log.)")
Start yours, or point REDIS_URL at one that runs.
MSG
    exit 1
  fi
fi

# Create or upgrade the schema (migrations/, DATABASE_URL) once, before any process starts.
alembic upgrade head

# Metrics (prometheus-client multiprocess mode): every gunicorn and RQ worker writes its
# counters to files in PROMETHEUS_MULTIPROC_DIR; a scrape of /metrics sums them. The folder
# must start empty (old files would be counted again) and be one per running gateway. The
# gunicorn hook forgets a dead worker's live gauges (a ./gunicorn.conf.py imports it instead).
PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus-multiproc}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR" && rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
export PROMETHEUS_MULTIPROC_DIR
[ -f gunicorn.conf.py ] || export GUNICORN_CMD_ARGS="${GUNICORN_CMD_ARGS:-} --config python:gateway.gunicorn_hooks"

# Keep a component running: RQ's worker pool and cron scheduler exit when Redis goes away
# for long; they are restarted until Redis is back (the receiver keeps storing meanwhile).
# In production, systemd or the orchestrator does this for each process.
supervise() {
  local child
  trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0' INT TERM
  while true; do
    "$@" &
    child=$!
    wait "$child" || true
    echo "gateway: '$1 $2' exited; restarting in 2 s" >&2
    sleep 2
  done
}

trap 'trap - INT TERM EXIT; kill -TERM $(jobs -p) 2>/dev/null; wait' INT TERM EXIT
# gunicorn's own lines go through the gateway's log format (gateway.weblog). The access log
# prints the path only (%(U)s), never the query: `?token=` is the aggregators' secret.
gunicorn --workers "$GATEWAY_WEB_WORKERS" --bind "$GATEWAY_HOST:$GATEWAY_PORT" \
  --logger-class gateway.weblog.GunicornLogger \
  --access-logfile - --access-logformat '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss' wsgi:app &
# -c workers.rqconfig: RQ's own lines in the same log format (DICT_CONFIG). The connection
# class reads REDIS_URL as the gateway does (also its redis+sentinel:// form).
supervise rq worker-pool --num-workers "$GATEWAY_JOB_WORKERS" --worker-class workers.worker.GatewayWorker \
  --connection-class gateway.redisconn.GatewayRedis \
  -c workers.rqconfig --url "$REDIS_URL" "$GATEWAY_QUEUE" "$GATEWAY_QUEUE-bulk" &
# The cron scheduler (workers/cron.py's jobs): one at a time across hosts, by a lease in Redis.
supervise python -m workers.scheduler &
echo "gateway: receiver on http://$GATEWAY_HOST:$GATEWAY_PORT, $GATEWAY_JOB_WORKERS workers on $GATEWAY_QUEUE, outbound=$GATEWAY_OUTBOUND"
wait -n
echo "gateway: the receiver exited; stopping the rest" >&2
exit 1
