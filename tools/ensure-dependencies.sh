#!/usr/bin/env bash
# What `make run` and `make test` need from the machine, made ready before they start:
# PostgreSQL, RabbitMQ and Redis running on their standard ports, and nginx installed.
#
# As root it starts whichever service is down and installs nginx (apt-get). As any other user it
# changes nothing: it stops at once (well under 5 s) naming the exact command to run as root.
# Safe to run again; it does nothing when all is ready.
#
# Overrides (for tests and unusual machines): DEPS_POSTGRES_PORT, DEPS_RABBITMQ_PORT,
# DEPS_REDIS_PORT, DEPS_NGINX (the nginx program looked for), DEPS_AS_ROOT=0 (act as non-root).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

postgres_port=${DEPS_POSTGRES_PORT:-5432}
rabbitmq_port=${DEPS_RABBITMQ_PORT:-5672}
redis_port=${DEPS_REDIS_PORT:-6379}
nginx=${DEPS_NGINX:-nginx}

start_postgres='pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'
start_rabbitmq='rabbitmq-server -detached'
start_redis='mkdir -p /var/lib/redis /var/log/redis && redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log'
install_nginx='apt-get update && apt-get install -y nginx-light'

say() { printf '[deps] %s\n' "$*" >&2; }

is_root() {
  if [ -n "${DEPS_AS_ROOT:-}" ]; then [ "$DEPS_AS_ROOT" = 1 ]; else [ "$(id -u)" = 0 ]; fi
}

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do port_open "$port" && return 0; sleep 1; done
  say "$name did not open port $port within 60 s; see its log"
  return 1
}

missing=()
need() { missing+=("$1|$2"); }  # what is wrong | the command that fixes it

port_open "$postgres_port" || need "PostgreSQL is not running on 127.0.0.1:$postgres_port" "$start_postgres"
port_open "$rabbitmq_port" || need "RabbitMQ is not running on 127.0.0.1:$rabbitmq_port" "$start_rabbitmq"
port_open "$redis_port" || need "Redis is not running on 127.0.0.1:$redis_port" "$start_redis"
command -v "$nginx" >/dev/null 2>&1 || need "nginx is not installed" "$install_nginx"

# The whole suite (the e2e and contract stacks beside the integration tests' pools) needs more
# than PostgreSQL's default 100 connections: raise the limit once, as root, and restart.
raise_connections() {
  local wanted=300 current
  current=$(psql -h 127.0.0.1 -p "$postgres_port" -U postgres -Atc "SHOW max_connections" \
    2>/dev/null || echo 0)
  if [ "${current:-0}" -lt "$wanted" ] && [ "$(id -u)" = 0 ]; then
    say "PostgreSQL allows $current connections; raising it to $wanted"
    psql -h 127.0.0.1 -p "$postgres_port" -U postgres -qc \
      "ALTER SYSTEM SET max_connections = $wanted" >/dev/null
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
    wait_port PostgreSQL "$postgres_port"
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  raise_connections
  exit 0
fi

if ! is_root; then
  say "not ready, and only root can fix it (this changes nothing as $(id -un)):"
  for item in "${missing[@]}"; do
    say "  - ${item%%|*}; run as root:"
    printf '      %s\n' "${item#*|}" >&2
  done
  say "or run the same make command again as root, which does all of it."
  exit 1
fi

for item in "${missing[@]}"; do
  say "${item%%|*}: ${item#*|}"
  case "$item" in
    PostgreSQL*)
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
      wait_port PostgreSQL "$postgres_port"
      ;;
    RabbitMQ*)
      rabbitmq-server -detached
      wait_port RabbitMQ "$rabbitmq_port"
      rabbitmqctl -q await_startup
      ;;
    Redis*)
      mkdir -p /var/lib/redis /var/log/redis
      redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
      wait_port Redis "$redis_port"
      ;;
    nginx*)
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq -o DPkg::Lock::Timeout=120
      apt-get install -y -qq -o DPkg::Lock::Timeout=120 nginx-light >/dev/null
      # Debian's package may start its default server on port 80; the stack runs its own nginx
      # with its own configuration, so that one is stopped again.
      if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
        nginx -s quit || true
      fi
      command -v nginx >/dev/null || { say "nginx is still not on PATH after apt-get"; exit 1; }
      ;;
  esac
done
raise_connections
say "PostgreSQL, RabbitMQ, Redis and nginx are ready"
