# Two commands do all setup on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Tests pin the thread pools so that 2 xdist workers share 2 cores without oversubscription.
TEST_ENV := XLA_FLAGS="--xla_cpu_multi_thread_eigen=false" \
            OMP_NUM_THREADS=1 MPLBACKEND=Agg
WORKERS ?= 2

.PHONY: demo test test-slow lint format bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[dev]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(PIP) install --quiet -e ".[dev,bench]"
	touch $@

demo: $(VENV)/.installed-dev
	MPLBACKEND=Agg $(PY) -m pdejax demo $(DEMO_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(TEST_ENV) $(PY) -m pytest -m "not slow" -n $(WORKERS) --durations=15 $(PYTEST_ARGS)

test-slow: $(VENV)/.installed-dev
	$(TEST_ENV) $(PY) -m pytest -m slow $(PYTEST_ARGS)

bench: $(VENV)/.installed-bench
	$(PY) -m benchmarks $(if $(QUICK),--quick,) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
