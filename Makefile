# The two commands a new user needs: `make run` and `make test`. Both create the virtualenv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench bench-ussd bench-pipeline contract clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)  ## start receiver + workers + sweeper on the embedded defaults
	PATH="$(CURDIR)/$(BIN):$$PATH" scripts/run-gateway.sh

test: $(STAMP)  ## lint, then the whole suite (needs Redis and PostgreSQL on 127.0.0.1)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)  ## receiver throughput against a bare Flask route
	$(BIN)/python bench/receiver.py

bench-ussd: $(STAMP)  ## USSD per-step latency at 50 concurrent sessions against a bare Flask route
	$(BIN)/python bench/ussd.py

bench-pipeline: $(STAMP)  ## end to end: MO -> report -> reply at the aggregator, burst and paced
	$(BIN)/python bench/pipeline.py

contract: $(STAMP)  ## the shared black-box contract check
	$(PYTHON) ../shared/tools/contract_check.py .

clean:
	rm -rf $(VENV) var .pytest_cache
