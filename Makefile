# Two commands a new user needs: `make demo` and `make test`. Both bootstrap .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled

.PHONY: demo test lint bench unit integration e2e infra clean venv cdk-cli synth checkov

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# The CDK CLI pinned in package.json/package-lock.json, installed into ./node_modules.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

cdk-cli: $(NODE_STAMP)

# checkov (policy scanner over the synthesized templates) pins packages that conflict with ours
# (boto3/botocore), so it gets its own venv inside .venv; tests/infrastructure/test_checkov.py runs it.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
$(CHECKOV_STAMP): $(STAMP)
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(BIN)/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python checkov==$(CHECKOV_VERSION)
	touch $@

checkov: $(CHECKOV_STAMP)

synth: $(STAMP) $(NODE_STAMP)
	npx --no-install aws-cdk synth --no-notices -q

demo: $(STAMP)
	$(BIN)/cutover demo

# Static checks: the layer contracts (import-linter), ruff, mypy. Part of `make test`.
lint: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# --durations: every run (CI's too) ends with its 25 slowest tests, to keep the 20-minute budget in view.
test: lint $(STAMP) $(NODE_STAMP) $(CHECKOV_STAMP)
	$(BIN)/python -m pytest tests -q --durations=25

# One layer each (the folder is the layer; tests/conftest.py adds the matching marker).
unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit tests/properties -q

integration: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest tests/integration -q

e2e: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest tests/e2e -q

infra: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest tests/infrastructure -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) cdk.out node_modules build
