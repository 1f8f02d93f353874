# Klyph: `make run` serves the API on the embedded local stack; `make test` runs the suite.
# Both set up the virtualenv themselves on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt tests/requirements.txt | cksum | cut -d' ' -f1)
PORT ?= 8000

.PHONY: install run test test-unit load demo api-key clean

install: $(STAMP)

$(STAMP): requirements.txt tests/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r tests/requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: install
	PORT=$(PORT) $(PY) -m chalicelib.local

test: install
	$(PY) -m pytest tests -q -p no:cacheprovider --ignore=tests/load

# Load on the real local stack: 200 concurrent creates, 20 jobs at once, latency while they run.
load: install
	$(PY) -m pytest tests/load -q -s -p no:cacheprovider -p no:logging

test-unit: install
	$(PY) -m pytest tests/unit -q -p no:cacheprovider

demo: install
	$(PY) -m chalicelib.local.demo --port $(PORT) $(if $(VIDEO),--video "$(VIDEO)")

# Create a workspace and an API key. Local stack by default; STAGE=aws writes to the
# table of the AWS account in your environment (KLYPH_TABLE, AWS credentials).
api-key: install
	$(PY) -m chalicelib.cli api-key $(if $(ACCOUNT),--account $(ACCOUNT)) --stage $(or $(STAGE),local) --port $(PORT)

clean:
	rm -rf $(VENV) demo-output .pytest_cache
