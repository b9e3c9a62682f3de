#!/usr/bin/env bash
# Starts the whole gateway on this host: the receiver (gunicorn), the RQ workers (with the
# scheduler that runs delayed retries) and the RQ cron scheduler (the sweeper). Ctrl-C or
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

# Validate the configuration (names the bad variable) and read what this script needs.
eval "$(python -m config.show_shell)"

if ! python -c "import redis,sys; redis.Redis.from_url('$REDIS_URL', socket_connect_timeout=2).ping()" 2>/dev/null; then
  cat >&2 <<MSG
Redis is not answering at $REDIS_URL. Start a local one with:
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379
or point REDIS_URL at yours.
MSG
  exit 1
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
gunicorn --workers "$GATEWAY_WEB_WORKERS" --bind "$GATEWAY_HOST:$GATEWAY_PORT" \
  --access-logfile - --access-logformat '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss' wsgi:app &
supervise rq worker-pool --num-workers "$GATEWAY_JOB_WORKERS" --worker-class workers.worker.GatewayWorker \
  --url "$REDIS_URL" "$GATEWAY_QUEUE" &
supervise rq cron --url "$REDIS_URL" workers/cron.py &
echo "gateway: receiver on http://$GATEWAY_HOST:$GATEWAY_PORT, $GATEWAY_JOB_WORKERS workers on $GATEWAY_QUEUE, outbound=$GATEWAY_OUTBOUND"
wait -n
echo "gateway: the receiver exited; stopping the rest" >&2
exit 1
