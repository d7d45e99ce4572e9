# The project's commands. `make run` brings the whole system up; `make test` runs every test.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := libs/contracts libs/servicekit services/ticket-service services/payment-service \
            services/notification-gateway tools/midtrans-sandbox tools/mail-sink tools/devstack
EXISTING := $(foreach p,$(PACKAGES),$(if $(wildcard $(p)/pyproject.toml),$(p)))
IMPORTS := ticketing_contracts servicekit ticket_service payment_service notification_gateway \
           midtrans_sandbox mail_sink devstack
SUB ?= dev-user
ROLES ?= user

.PHONY: help install run up down token test lint format bench schemas clean

help:
	@echo "make install  create .venv and install every package (run once; other targets do it for you)"
	@echo "make run      the whole system in the foreground (Ctrl-C stops it)"
	@echo "make up/down  the same in the background / stop it"
	@echo "make token SUB=<user-id> ROLES=user,host   a development JWT"
	@echo "make test     every test (needs PostgreSQL, RabbitMQ, Redis and nginx on this machine)"
	@echo "make lint     ruff + mypy"
	@echo "make bench    the benchmarks"

$(VENV)/.installed: $(foreach p,$(EXISTING),$(p)/pyproject.toml) requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt $(foreach p,$(EXISTING),-e $(p))
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m devstack run

up: install
	$(PY) -m devstack up

down: install
	$(PY) -m devstack down

token: install
	@$(PY) -m devstack token --sub "$(SUB)" --roles "$(ROLES)"

test: install
	$(PY) -m pytest -q $(EXISTING) tests

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(foreach m,$(IMPORTS),$(if $(shell $(PY) -c "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('$(m)') else 1)" 2>/dev/null && echo y),-p $(m)))

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schemas: install
	$(PY) -m ticketing_contracts.schemas

bench: install
	$(PY) tools/bench/run.py

clean:
	rm -rf $(VENV) .run
