# The two commands a new user needs: `make run` and `make test`. Both create the virtualenv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: running needs only the runtime requirements, testing adds the test tools.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test test-cluster lint format bench bench-quick bench-receiver bench-ussd bench-pipeline bench-rq bench-memory bench-kannel bench-migration contract screenshots clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(DEV_STAMP)

run: $(STAMP)  ## start receiver + workers + sweeper on the embedded defaults
	PATH="$(CURDIR)/$(BIN):$$PATH" scripts/run-gateway.sh

test: $(DEV_STAMP)  ## lint, then the whole suite (needs Redis and PostgreSQL on 127.0.0.1)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

test-cluster: $(DEV_STAMP)  ## the cluster test: hosts as network namespaces (root), fault table, scaling ratio (about 2 min)
	$(BIN)/pytest -m cluster tests/cluster

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(BENCH_STAMP): $(DEV_STAMP) requirements-bench.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## every benchmark of issue 6 in sequence (about 6 min), one table, docs/performance.png
	$(BIN)/python bench/all.py

bench-quick: $(BENCH_STAMP)  ## the same, shorter runs (about 3 min)
	$(BIN)/python bench/all.py --quick

bench-receiver: $(DEV_STAMP)  ## receiver throughput against a bare Flask route and the floor (bare + 1 durable INSERT)
	$(BIN)/python bench/receiver.py

bench-ussd: $(DEV_STAMP)  ## USSD per-step latency at 50 concurrent sessions against a bare Flask route
	$(BIN)/python bench/ussd.py

bench-pipeline: $(DEV_STAMP)  ## end to end: MO -> report -> reply at the aggregator, burst and paced
	$(BIN)/python bench/pipeline.py

bench-rq: $(DEV_STAMP)  ## the RQ no-op ceiling: 2 SimpleWorkers draining no-op jobs
	$(BIN)/python bench/rq_ceiling.py

bench-memory: $(DEV_STAMP)  ## peak RSS per gateway process: idle, under a backlog, with 100,000 reports stored
	$(BIN)/python bench/memory.py

bench-kannel: $(DEV_STAMP)  ## 2,000 MO through a real Kannel (fakesmsc) until every reply is back
	$(BIN)/python bench/kannel.py

bench-migration: $(DEV_STAMP)  ## alembic upgrade baseline -> head on 100,000 reports, SQLite and PostgreSQL
	$(BIN)/python bench/migration.py

screenshots: $(DEV_STAMP)  ## the browser scenarios, saving docs/console.png and docs/phone.png (needs chromium)
	GATEWAY_SCREENSHOTS=docs $(BIN)/pytest -q -m browser -k sqlite tests/browser

contract: $(DEV_STAMP)  ## the shared black-box contract check
	$(PYTHON) ../shared/tools/contract_check.py .

clean:
	rm -rf $(VENV) var .pytest_cache
