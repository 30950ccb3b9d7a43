PY ?= .venv/bin/python

.PHONY: lint fmt test test-postgres cog docs

lint:
	$(PY) -m ruff format --check ledger commands projections relay tests benchmarks
	$(PY) -m ruff check ledger commands projections relay tests benchmarks
	$(PY) -m mypy
	$(dir $(PY))lint-imports
	$(PY) -m cogapp --check docs/cli.md

fmt:
	$(PY) -m ruff format ledger commands projections relay tests benchmarks
	$(PY) -m ruff check --fix ledger commands projections relay

test:
	$(PY) -m pytest

test-postgres:
	ACCORD_TEST_POSTGRES=1 $(PY) -m pytest -m postgres

cog docs:
	$(PY) -m cogapp -r docs/cli.md
