# The quick start is two commands: `make run` and `make test`.
# Both create .venv and install the project on first use, so a fresh machine needs only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint typecheck bench bench-growth lock clean messages

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; install Python 3.11 or run make PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/citycert dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy domain eventstore readmodel activities workflows app runtime entrypoints worker.py bench

# Every tier: unit (no servers), integration (real PostgreSQL and Temporal), e2e (processes),
# browser, spread over TEST_WORKERS processes (pytest-xdist; `auto`: one per core). Each worker
# starts its own servers; loadfile keeps a file's tests on one worker, in order (a module-scoped
# fixture starts once). `make test TEST_WORKERS=0` runs them in this process, one after another.
TEST_WORKERS ?= auto
test: lint typecheck
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# The unit tier alone, in seconds: no server is started (tests/unit/conftest.py refuses them).
test-fast: $(STAMP)
	$(BIN)/pytest tests/unit -q

bench: $(STAMP)
	$(BIN)/python -m bench

# How each cost grows with the work (bench/growth.py): long (many minutes); `--quick` for a smoke run.
bench-growth: $(STAMP)
	$(BIN)/python -m bench growth

# The image's dependencies, every one pinned with its hashes (the Dockerfile installs them with
# --require-hashes); the embedded servers are left out, a container never starts them. Run after a
# change to the dependencies in pyproject.toml (tests/unit/deploy/test_lock.py says when).
lock: $(STAMP)
	$(BIN)/python deploy/image_requirements.py | $(BIN)/uv pip compile - --quiet --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-header \
		-o deploy/requirements.lock

# Every message the portal says, for a translator: the pages' words (entrypoints/web) and the
# domain's and the application's refusal templates (domain/ and app/, at the calls
# domain/errors.py's REFUSAL_KEYWORDS names), as build/messages.pot. The catalogs are compiled in memory when served (entrypoints/web/i18n.py);
# tests/unit/entrypoints/web/test_i18n.py and test_refusals.py say what is missing.
messages: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k N_ \
		$$($(BIN)/python -c "from domain.errors import REFUSAL_KEYWORDS as K; \
			print(' '.join(f'-k {k}:' + ','.join(map(str, v)) for k, v in K.items()))") \
		-o build/messages.pot entrypoints/web domain app

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
