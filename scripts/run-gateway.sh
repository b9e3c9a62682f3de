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

# Create the tables once, before several processes race to do it.
python -c "from config import load_settings; from gateway.db import make_engine, create_schema; create_schema(make_engine(load_settings().database_url))"

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
# -c workers.rqconfig: RQ's own lines in the same log format (DICT_CONFIG).
supervise rq worker-pool --num-workers "$GATEWAY_JOB_WORKERS" --worker-class workers.worker.GatewayWorker \
  -c workers.rqconfig --url "$REDIS_URL" "$GATEWAY_QUEUE" &
supervise rq cron -c workers.rqconfig --url "$REDIS_URL" workers/cron.py &
echo "gateway: receiver on http://$GATEWAY_HOST:$GATEWAY_PORT, $GATEWAY_JOB_WORKERS workers on $GATEWAY_QUEUE, outbound=$GATEWAY_OUTBOUND"
wait -n
echo "gateway: the receiver exited; stopping the rest" >&2
exit 1
