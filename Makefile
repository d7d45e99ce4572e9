# The project's commands. `make run` brings the whole system up; `make test` runs every test.
# Both make the machine ready first (tools/ensure-dependencies.sh) and install the venv from the
# lock (requirements.lock), so on a fresh machine they are the only commands needed.
.DEFAULT_GOAL := help
SHELL := /bin/bash
# nginx, pg_ctlcluster and rabbitmq-server live in sbin, which a non-login root shell may lack.
export PATH := $(PATH):/usr/sbin:/sbin
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
LOCK := requirements.lock
# Every folder with a pyproject.toml under libs/, services/ and tools/ is a package of the
# workspace: installed editable, linted, tested, and locked. A new one needs no edit here.
PACKAGES := $(patsubst %/pyproject.toml,%,$(sort $(wildcard libs/*/pyproject.toml \
            services/*/pyproject.toml tools/*/pyproject.toml)))
IMPORTS := $(sort $(foreach p,$(PACKAGES),$(notdir $(patsubst %/,%,$(dir \
           $(wildcard $(p)/src/*/__init__.py))))))
SUB ?= dev-user
ROLES ?= user

.PHONY: help deps install lock lock-upgrade run up down token test lint format bench schemas dlq clean

help:
	@echo "make install  create .venv from requirements.lock, every package editable (other targets do it for you)"
	@echo "make lock     regenerate requirements.lock from every pyproject.toml and requirements-dev.txt"
	@echo "make run      the whole system in the foreground (Ctrl-C stops it)"
	@echo "make up/down  the same in the background / stop it"
	@echo "make token SUB=<user-id> ROLES=user,host   a development JWT"
	@echo "make test     every test (first starts PostgreSQL, RabbitMQ, Redis and installs nginx, as root)"
	@echo "make lint     ruff + mypy"
	@echo "make dlq ARGS=\"show QUEUE\"   dead letters: list, show, replay, drop (python -m servicekit.dlq)"
	@echo "make bench    the benchmarks"

deps:
	@bash tools/ensure-dependencies.sh

# Exactly the locked versions (hash-checked, no resolution), then the workspace's packages
# editable on top; `pip check` fails when a pyproject.toml asks for something the lock lacks.
$(VENV)/.installed: $(LOCK) requirements-dev.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "cannot create $(VENV):" \
	  "as root run: apt-get update && apt-get install -y python3-venv"; exit 1; }
	@test -x $(UV) || $(PY) -m pip install -q --disable-pip-version-check --no-deps \
	  --require-hashes -r <(awk '/^uv==/{p=1} p{print} p&&!/\\$$/{exit}' $(LOCK))
	$(UV) pip install -q --python $(PY) --require-hashes --no-deps -r $(LOCK)
	$(UV) pip install -q --python $(PY) --no-deps --no-build-isolation $(foreach p,$(PACKAGES),-e $(p))
	@$(UV) pip check -q --python $(PY) || { echo "$(LOCK) lacks a package a pyproject.toml or" \
	  "requirements-dev.txt asks for: run \`make lock\` and commit $(LOCK)"; exit 1; }
	touch $@

install: $(VENV)/.installed

# Regenerate the lock from every pyproject.toml and requirements-dev.txt (keeps current pins).
lock:
	@test -x $(UV) || { test -x $(PY) || $(PYTHON) -m venv $(VENV); $(PY) -m pip install -q uv; }
	UV=$(UV) bash tools/lock.sh

lock-upgrade:
	@test -x $(UV) || { test -x $(PY) || $(PYTHON) -m venv $(VENV); $(PY) -m pip install -q uv; }
	UV=$(UV) bash tools/lock.sh --upgrade

run: deps install
	$(PY) -m devstack run

up: deps install
	$(PY) -m devstack up

down: install
	$(PY) -m devstack down

token: install
	@$(PY) -m devstack token --sub "$(SUB)" --roles "$(ROLES)"

test: deps install
	$(PY) -m pytest -q $(PACKAGES) tests

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(foreach m,$(IMPORTS),-p $(m))

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schemas: install
	$(PY) -m ticketing_contracts.schemas

dlq: install
	$(PY) -m servicekit.dlq $(or $(ARGS),list)

bench: deps install
	$(PY) tools/bench/run.py

clean:
	rm -rf $(VENV) .run
