# syntax=docker/dockerfile:1
# One image recipe for every Python process of the workspace; build arguments pick which.
# Build from the repository root, e.g.
#   docker build --build-arg PACKAGE=services/ticket-service --build-arg MODULE=ticket_service \
#     --build-arg PORTS=8001 --build-arg HEALTH_URL=http://127.0.0.1:8001/readyz -t ticketing/ticket-service .
# docker-compose.yml builds all five this way. Third-party packages come from requirements.lock
# (the workspace's one lock): uv installs only what PACKAGE needs, at the locked versions, and
# checks every download against the lock's hashes.
FROM python:3.11-slim

# The package folder (services/<name> or tools/<name>) and the module `python -m` runs.
ARG PACKAGE
ARG MODULE
# What the process listens on (EXPOSE) and the URL its HEALTHCHECK asks.
ARG PORTS=8000
ARG HEALTH_URL=http://127.0.0.1:8000/readyz

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1

RUN test -n "$PACKAGE" && test -n "$MODULE" \
    || { echo "set --build-arg PACKAGE=<folder> and --build-arg MODULE=<module>" >&2; exit 1; }

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /build
COPY requirements.lock requirements.lock
# uv itself at its locked version and hash, then everything else through it.
RUN awk '/^uv==/{p=1} p{print} p&&!/\\$/{exit}' requirements.lock > uv.txt \
    && pip install --no-deps --require-hashes -r uv.txt
COPY libs/contracts libs/contracts
COPY libs/servicekit libs/servicekit
COPY ${PACKAGE} ${PACKAGE}
RUN uv pip install --system --constraint requirements.lock \
        ./libs/contracts ./libs/servicekit ./${PACKAGE} \
    && pip uninstall -y -q uv \
    && rm -rf /build

WORKDIR /app
USER app

# Each process reads its own variables; the container listens on every interface.
ENV APP_MODULE=${MODULE} \
    APP_HEALTH_URL=${HEALTH_URL} \
    HTTP_HOST=0.0.0.0 \
    SANDBOX_HOST=0.0.0.0 \
    MAIL_SINK_HOST=0.0.0.0
EXPOSE ${PORTS}
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=6 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(os.environ['APP_HEALTH_URL'], timeout=2)"
# exec: the Python process is PID 1 and receives SIGTERM itself (graceful shutdown).
CMD exec python -m "$APP_MODULE"
