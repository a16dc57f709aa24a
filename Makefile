# One task runner: the README's commands, the developers and CI (.ci/run) all call these.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
WHEEL_DIR := dist

.PHONY: all venv wheel install develop lint rust-check test ref-venv pytest smoke smoke-run demo bench bench-smoke ci clean

all: test

$(BIN)/maturin:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "maturin>=1.7,<2"

venv: $(BIN)/maturin

# The abi3 wheel users install: one per platform, any CPython >= 3.10.
wheel: venv
	rm -rf $(WHEEL_DIR)
	$(BIN)/maturin build --release --out $(WHEEL_DIR) -q

# Tests run against the built wheel installed in the venv, not against the source tree.
install: wheel
	$(BIN)/python -m pip install -q --force-reinstall --no-deps $(WHEEL_DIR)/*.whl
	$(BIN)/python -m pip install -q "$$(ls $(WHEEL_DIR)/*.whl)[dev]"

# An editable build for quick iteration while developing.
develop: venv
	$(BIN)/maturin develop --release --extras dev -q

lint: venv
	$(BIN)/ruff check python tests benches examples
	$(BIN)/ruff format --check python tests benches examples
	$(BIN)/mypy
	$(BIN)/python -m mypy.stubtest quri_parts_oqtopus._core

rust-check:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo test -q

test: install ref-venv pytest

# The reference client from PyPI, in a venv of its own: its import names are ours.
REF_VENV := .ref-venv
ref-venv: $(REF_VENV)/bin/python

$(REF_VENV)/bin/python:
	$(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install -q --upgrade pip
	$(REF_VENV)/bin/python -m pip install -q "quri-parts-oqtopus==1.1.5"

pytest:
	OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python -m pytest -q

# The wheel in a fresh virtual environment with only its runtime (and [local]) packages.
smoke: wheel smoke-run

smoke-run:
	rm -rf .smoke-venv
	$(PYTHON) -m venv .smoke-venv
	.smoke-venv/bin/python -m pip install -q --upgrade pip
	.smoke-venv/bin/python -m pip install -q "$$(ls $(WHEEL_DIR)/*.whl)[local]"
	cd /tmp && $(CURDIR)/.smoke-venv/bin/python $(CURDIR)/tests/smoke/wheel_smoke.py

demo: install
	$(BIN)/oqtopus-local demo

bench: install ref-venv
	OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python benches/compare.py
	$(BIN)/python benches/load.py

# A short run of both benchmarks, so that they never rot; the figures come from `make bench`.
bench-smoke:
	OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python benches/compare.py --quick --repeat 1
	$(BIN)/python benches/load.py --jobs 40 --threads 4

# Prerequisites run left to right, each once: the wheel is built a single time.
ci: rust-check install ref-venv lint pytest smoke-run bench-smoke

clean:
	rm -rf $(VENV) .smoke-venv $(REF_VENV) $(WHEEL_DIR) target
