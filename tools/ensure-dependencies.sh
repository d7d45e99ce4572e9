#!/usr/bin/env bash
# Start PostgreSQL, RabbitMQ and Redis if they are down, and install nginx if it is missing.
# Safe to run again; used by .ci/run and by a new machine's set-up (see README).
set -euo pipefail

say() { printf '[deps] %s\n' "$*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do port_open "$port" && return 0; sleep 1; done
  say "$name did not open port $port within 60 s"; return 1
}

if ! port_open 5432; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_port PostgreSQL 5432
fi

if ! port_open 5672; then
  say "starting RabbitMQ"
  rabbitmq-server -detached
  wait_port RabbitMQ 5672
  rabbitmqctl -q await_startup || true
fi

if ! port_open 6379; then
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port Redis 6379
fi

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  say "installing nginx"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nginx-light >/dev/null || apt-get install -y -qq nginx >/dev/null
fi
# Debian's package starts a default nginx on port 80; the project runs its own, so stop that one.
if [ -f /run/nginx.pid ] && grep -q . /run/nginx.pid 2>/dev/null; then
  nginx -s quit 2>/dev/null || true
fi

say "PostgreSQL, RabbitMQ, Redis and nginx are ready"
