# layerlab: two commands, from a fresh clone.
#   make campaign   set up .venv when missing, then run the default campaign on all local cores
#   make test       set up .venv when missing, then serial tests and MPI tests on 2 ranks
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Python 3.12: on PATH as python3.12 on the target machines; pyenv installs are searched as a fallback.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
            $$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo $$p; break; }; done)
NPROC := $(shell nproc 2>/dev/null || echo 2)
export UCX_TLS ?= self,sm,tcp
export OMP_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg

.PHONY: campaign test test-serial test-mpi venv dryrun lint clean-results

venv: $(VENV)/.installed

# Every package version comes from requirements.lock (pip-compile of pyproject.toml; README: refresh).
$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 not found (set PYTHON=/path/to/python3.12)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	touch $@

campaign: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/snakemake --cores $(NPROC) $(SNAKEMAKE_ARGS)

dryrun: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/snakemake --cores $(NPROC) --dry-run --quiet rules

lint: venv
	$(BIN)/snakemake --lint

test: venv test-serial test-mpi

test-serial: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m pytest -m "not mpi" $(PYTEST_ARGS)

test-mpi: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/mpiexec -n 2 $(BIN)/python -m pytest -m mpi -p no:cacheprovider $(PYTEST_ARGS)

clean-results:
	rm -rf results/geometry results/runs results/datasets results/figures results/logs results/benchmarks
