# The index of what a developer can do here. Every target builds the virtualenv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help venv tools demo screenshot test lint validate asl build deploy bench clean

help:
	@echo "make demo      run the main job on the embedded AWS (no AWS account needed)"
	@echo "make screenshot  redraw docs/images/report-builder.png from a fresh demo run"
	@echo "make test      lint + unit, template, state-machine (executed), embedded-AWS and outside-tool tests"
	@echo "make tools     the outside checkers the tests run (npm ci from package-lock.json; checkov)"
	@echo "make lint      ruff check and format check, mypy (strict on the layer and the handlers)"
	@echo "make validate  sam validate --lint and cfn-lint on template.yaml"
	@echo "make asl       rewrite the ASL's Retry/Catch and the transition counts from the error policy and the ASL"
	@echo "make build     sam build (arm64 packages, no Docker needed)"
	@echo "make deploy    sam build, then sam deploy --guided"
	@echo "make bench     benchmarks/: numbers, then every goal judged, failing first (exit 1 if one fails)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

# Test-time outside checkers (tests/tools/): the npm tools from the lockfile, and checkov in an
# environment of its own (it pins boto3 1.35, older than the project's). Each reinstalls only when
# its lockfile is newer than its stamp.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(VENV)/checkov/.installed: tests/tools/checkov-requirements.txt | $(VENV)/.installed
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install --quiet -r tests/tools/checkov-requirements.txt
	touch $@

tools: node_modules/.installed $(VENV)/checkov/.installed

demo: venv
	$(BIN)/autotuner demo

# The documentation's chart, drawn from a fresh demo run (docs/simulated-account.md, "The chart in the docs").
screenshot: venv
	$(BIN)/python -m autotuner.screenshot

# Two workers, one per core of the CI machine; a file's tests stay on one worker, so its
# module-scoped fixtures (the fault suite's runs) run once.
test: lint tools
	$(BIN)/pytest -q -n 2 --dist loadfile

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

validate: venv
	$(BIN)/sam validate --lint
	$(BIN)/cfn-lint template.yaml

# statemachine/build.py: the ASL's retriers from autotuner_core/policy/errors.py, the counts from the ASL.
asl: venv
	$(BIN)/python -m statemachine.build

build: venv
	$(BIN)/sam build

deploy: build
	$(BIN)/sam deploy --guided

bench: venv
	$(BIN)/python -m benchmarks

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache results
