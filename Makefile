# Fazhi: `make run` starts the whole platform on this machine, `make test` tests it.
SHELL := /bin/bash
LOCAL := $(CURDIR)/.local
VENV := $(LOCAL)/venv
PY := $(VENV)/bin/python
UV := $(LOCAL)/uv/bin/uv
PACKAGES := -e libs/fazhi -e services/supervision -e services/petition-mediation \
            -e services/emergency -e services/open-government

# CLUSTER=3: three Kafka brokers (replication 3, min.insync.replicas 2) for run, stack, stop, faults
CLUSTER ?= 1
export FAZHI_KAFKA_NODES := $(CLUSTER)

.PHONY: help install deps stack run demo screenshots test lint unit stop status reset lock bench faults asyncapi deploy-files

help:
	@echo "make run    start Kafka, PostgreSQL, FerretDB, the four apis and workers (Ctrl-C stops all)"
	@echo "make demo   post a week of the district to the running platform (DEMO_FLAGS=--live: over 3 minutes)"
	@echo "make screenshots  the portal, console and dashboard after make demo, into docs/screenshots"
	@echo "make test   the same stack, then lint, type checks, unit, integration and e2e tests"
	@echo "make stop   stop what started here: make run's apis and workers, Kafka, FerretDB, PostgreSQL"
	@echo "make lock   recompile requirements.lock after a dependency change"
	@echo "make asyncapi  regenerate docs/asyncapi.json from the event contracts"
	@echo "make deploy-files  regenerate the Kubernetes files made from the topology, rules and dashboards"
	@echo "make bench  benchmarks as ratios on their own Kafka/FerretDB/PostgreSQL; bench/results/<date>.json"
	@echo "make faults the fault suite on its own stack (FAULTS_ARGS=\"--events 2000\"); faults/results/<date>.json"
	@echo "CLUSTER=3   (run, stack, stop, faults) three Kafka brokers, replication 3, min.insync.replicas 2"

$(UV):
	python3 -m venv $(LOCAL)/uv
	$(LOCAL)/uv/bin/pip install --quiet uv

$(VENV)/.installed: requirements.lock pyproject.toml libs/fazhi/pyproject.toml $(wildcard services/*/pyproject.toml) | $(UV)
	[ -x $(PY) ] || $(UV) venv --quiet --python python3 $(VENV)
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps $(PACKAGES)
	touch $@

deps: $(VENV)/.installed

install: deps
	scripts/stack.sh install

stack: install
	scripts/stack.sh start

run: install
	scripts/run.sh

demo: deps
	$(PY) scripts/demo.py $(DEMO_FLAGS)

screenshots: deps
	scripts/stack.sh font
	$(PY) scripts/screenshots.py

test: install
	scripts/test.sh

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy libs/fazhi/src services/supervision/src services/petition-mediation/src \
	    services/emergency/src services/open-government/src bench scripts faults

unit: deps
	$(PY) -m pytest tests/unit -q

asyncapi: deps
	$(PY) -m fazhi.bus.asyncapi > docs/asyncapi.json

deploy-files: deps
	$(PY) scripts/deploy_files.py

bench: install
	bench/run.sh

faults: install
	$(PY) -m faults.run --cluster $(CLUSTER) $(FAULTS_ARGS)

stop:
	scripts/stack.sh stop

status:
	scripts/stack.sh status

reset:
	scripts/stack.sh reset

lock: | $(UV)
	$(UV) pip compile libs/fazhi/pyproject.toml $(wildcard services/*/pyproject.toml) \
	    --group pyproject.toml:dev --group pyproject.toml:build --generate-hashes --no-header --no-annotate --universal \
	    --python-version 3.11 --no-emit-package fazhi -o requirements.lock
