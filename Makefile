# The README's commands. Each target creates the virtualenv it needs on first use
# (Python 3.11, pip and git are all a fresh machine must have).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip -q --disable-pip-version-check

.PHONY: plan test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime only: enough for `eksgitops plan` and `pulumi up`.
$(VENV)/.runtime: $(BIN)/python requirements.txt constraints.txt pyproject.toml
	@echo "Installing eksgitops and its pinned dependencies into $(VENV) (first run only: a few minutes)..."
	$(PIP) install -r requirements.txt -c constraints.txt
	$(PIP) install --no-deps -e .
	touch $@

# Runtime plus tests and linters; and, for the graph test, the real Mermaid parser (npm, pinned
# by tests/plan/mermaid/package-lock.json).
$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt tests/plan/mermaid/package-lock.json
	@echo "Installing the test tools into $(VENV) and the Mermaid parser (first run only)..."
	$(PIP) install -r requirements-dev.txt -c constraints.txt
	npm ci --prefix tests/plan/mermaid --no-audit --no-fund --silent
	touch $@

plan: $(VENV)/.runtime
	$(BIN)/eksgitops plan dev

# zizmor: the CI templates users copy (template injection, unpinned actions, permissions,
# credentials left in the checkout), offline so it needs no GitHub token.
CI_TEMPLATES := .github/workflows examples/ci/github-actions-dr.yml examples/ci/github-actions-publish-fleet.yml

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright
	$(BIN)/zizmor --offline --config zizmor.yml $(CI_TEMPLATES)

test: lint
	$(BIN)/pytest -n 2

clean:
	rm -rf $(VENV) build
