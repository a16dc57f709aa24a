# One task runner: the README's commands, the developers and CI (.ci/run) all call these.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
WHEEL_DIR := dist
# The lowest and the highest CPU this process may use (its affinity, not the machine's
# count): the loaded test run and the run beside it are pinned to them.
FIRST_CPU := $(shell python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
LAST_CPU  := $(shell python3 -c 'import os; print(max(os.sched_getaffinity(0)))')

.PHONY: all venv wheel wheel-check sdist smoke-sdist smoke-pythons docs install develop dev-packages lint rust-check test ref-venv pytest pytest-getters pytest-loaded test-long smoke smoke-run demo bench bench-smoke oldest-venv tranqu ci ci-checks ci-smokes clean fuzz

all: test

$(BIN)/maturin:
	@echo "== creating $(VENV) with maturin and ziglang (the build tools)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "maturin>=1.7,<2" "ziglang>=0.13"

venv: $(BIN)/maturin

# The abi3 wheel users install: any CPython >= 3.10. Linked by zig against glibc 2.17
# (manylinux2014), so it installs on every Linux still in use (RHEL 7/8, Ubuntu 18.04+).
wheel: venv
	@echo "== compiling the native module (Rust, release; about a minute the first time)"
	rm -rf $(WHEEL_DIR)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/maturin build --release --zig \
	  --compatibility manylinux2014 --out $(WHEEL_DIR) -q

# The wheel's platform tag is what the libraries it links to allow (auditwheel's verdict).
wheel-check: venv
	$(BIN)/python -m pip install -q auditwheel
	$(BIN)/auditwheel show $(WHEEL_DIR)/*.whl > $(WHEEL_DIR)/auditwheel.txt
	cat $(WHEEL_DIR)/auditwheel.txt
	grep -q '"manylinux_2_17_x86_64"' $(WHEEL_DIR)/auditwheel.txt

# Tests run against the built wheel installed in the venv, not against the source tree.
# The packages [dev] needs are installed while the wheel compiles (pip and one core of
# cargo's fat LTO side by side), so that the wheel's own install then finds them all.
install: venv
	$(MAKE) --no-print-directory -j2 wheel dev-packages
	@echo "== installing the wheel and the test tools into $(VENV)"
	$(BIN)/python -m pip install -q --force-reinstall --no-deps $(WHEEL_DIR)/*.whl
	$(BIN)/python -m pip install -q "$$(ls $(WHEEL_DIR)/*.whl)[dev]"

# The runtime and [dev] requirements, read from pyproject.toml (tomllib: Python 3.11+; on
# 3.10 they come with the wheel's install instead).
dev-packages: venv
	@echo "== installing the packages the tests need into $(VENV)"
	$(BIN)/python -c 'import tomllib' 2>/dev/null || exit 0; \
	  $(BIN)/python -c 'import tomllib; project = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	  print("\n".join(project["dependencies"] + project["optional-dependencies"]["dev"]))' \
	  > $(VENV)/dev-requirements.txt && $(BIN)/python -m pip install -q -r $(VENV)/dev-requirements.txt

# tranqu, OQTOPUS's transpiler library, for the tests of transpiler_lib "tket" through it
# (tests/emulation/test_transpilers.py; they skip without it). Its ouqu-tp pins numpy < 2,
# which the rest of the stack cannot meet, so those two come without their pins (the tests
# pass on numpy 2); make ci runs it, make test does not.
tranqu: install
	$(BIN)/python -m pip install -q pytket pytket-qiskit qiskit-qasm3-import parse typer
	$(BIN)/python -m pip install -q --no-deps "tranqu>=1.0.1" "ouqu-tp>=1.0.4"

# An editable build for quick iteration while developing.
develop: venv
	$(BIN)/maturin develop --release --extras dev -q

lint: venv
	$(BIN)/ruff check python tests benches examples
	$(BIN)/ruff format --check python tests benches examples
	$(BIN)/mypy
	$(BIN)/python -m mypy.stubtest quri_parts_oqtopus._core
	$(BIN)/lint-imports

# The documentation site (docs/, mkdocs.yml): guides and the API reference from docstrings.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# Cargo keeps its own job count: under `make -j2` (CI runs this beside a pip install) it
# would otherwise find make's jobserver named in MAKEFLAGS without its descriptors, and warn.
rust-check:
	cargo fmt --all -- --check
	MAKEFLAGS= cargo clippy --all-targets -- -D warnings
	MAKEFLAGS= cargo test -q

test: install ref-venv oldest-venv pytest pytest-getters

# The scale runs (tests marked long, a few minutes), which CI leaves to their smaller twins.
test-long: install ref-venv oldest-venv
	$(MAKE) --no-print-directory pytest PYTEST_ARGS="--runlong -m long"

# The reference client from PyPI, in a venv of its own: its import names are ours.
REF_VENV := .ref-venv
ref-venv: $(REF_VENV)/bin/python

$(REF_VENV)/bin/python:
	$(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install -q --upgrade pip
	$(REF_VENV)/bin/python -m pip install -q "quri-parts-oqtopus==1.1.5"

# pytest on every core (pytest-xdist, at most 4 workers): each worker has its own session
# server, and the tests of one module stay on one worker with that module's servers.
# `make test` skips the tests marked slow; `make ci` runs them (PYTEST_ARGS=--runslow).
# QURI Parts at the oldest release pyproject allows (0.20: SamplingBackend.sample took
# n_shots), with the wheel: tests/test_sampling_backend.py runs QURI Parts' helpers in it.
OLDEST_VENV := .oldest-venv
OLDEST_QURI_PARTS := quri-parts-core==0.20.0 quri-parts-circuit==0.20.0 quri-parts-openqasm==0.20.0
oldest-venv:
	test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install -q "$$(ls $(WHEEL_DIR)/*.whl)" $(OLDEST_QURI_PARTS)
	$(OLDEST_VENV)/bin/python -m pip install -q --force-reinstall --no-deps $(WHEEL_DIR)/*.whl

# One worker more than there are cores (at most 5): the tests wait on servers and child
# processes part of the time (on 2 cores, idle: 3 workers 231 s, 2 workers 254 s).
PYTEST_WORKERS ?= -n $(shell python3 -c 'import os; print(min((os.cpu_count() or 1) + 1, 5))') --dist loadscope
PYTEST_ENV := OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python \
  OQTOPUS_OLDEST_QURI_PARTS_PYTHON=$(CURDIR)/$(OLDEST_VENV)/bin/python
PYTEST := $(BIN)/python -m pytest -q
PYTEST_ARGS ?=

pytest:
	$(PYTEST_ENV) $(PYTEST) $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The parity tests and properties once more with the direct read of QURI Parts circuits
# switched off, so that the getter reader is held to the same outputs and errors.
GETTER_TESTS := tests/formats/test_qasm_parity.py tests/formats/test_direct_read.py tests/formats/test_sweep.py \
  tests/formats/test_upload_archive.py
pytest-getters:
	QURI_PARTS_OQTOPUS_DIRECT_READ=0 $(PYTEST_ENV) $(PYTEST) $(PYTEST_WORKERS) $(GETTER_TESTS)

# The tests that involve time (marked timing) once more, two workers on the first CPU this
# process may use (CPU 0 here), which a busy loop shares with them: none may depend on the
# machine's speed or load. Only the hog
# started here is stopped, by its PID. `make pytest-loaded LOADED_TESTS=` loads every test.
LOADED_TESTS ?= -m timing
pytest-loaded:
	@command -v taskset >/dev/null || { echo "pytest-loaded needs taskset (util-linux)"; exit 1; }
	taskset -c $(FIRST_CPU) $(PYTHON) -c 'while True: pass' & hog=$$!; trap 'kill $$hog' EXIT; \
	  $(PYTEST_ENV) FAULT_SCHEDULES=$${FAULT_SCHEDULES:-10} taskset -c $(FIRST_CPU) $(PYTEST) -n 2 --dist loadscope \
	  -p no:cacheprovider $(LOADED_TESTS)

# The wheel in a fresh virtual environment: first with only its runtime packages (the
# server's command and package say what to install), then with [local] added to that venv.
smoke: wheel smoke-run

smoke-run:
	rm -rf .smoke-venv
	$(PYTHON) -m venv .smoke-venv
	.smoke-venv/bin/python -m pip install -q --upgrade pip
	.smoke-venv/bin/python -m pip install -q "$$(ls $(WHEEL_DIR)/*.whl)"
	cd /tmp && $(CURDIR)/.smoke-venv/bin/python $(CURDIR)/tests/smoke/without_local.py
	.smoke-venv/bin/python -m pip install -q "$$(ls $(WHEEL_DIR)/*.whl)[local]"
	cd /tmp && $(CURDIR)/.smoke-venv/bin/python $(CURDIR)/tests/smoke/wheel_smoke.py

# The one abi3 wheel under every other CPython this machine has (pyenv's, where present):
# not part of `ci`, since other machines need not have them.
OTHER_PYTHONS ?= $(wildcard $(HOME)/.pyenv/versions/3.1[0-9]*/bin/python)
smoke-pythons: wheel
	@test -n "$(OTHER_PYTHONS)" || { echo "no other CPythons found (set OTHER_PYTHONS)"; exit 1; }
	for python in $(OTHER_PYTHONS); do \
	  echo "== $$python"; rm -rf .smoke-other-venv; \
	  $$python -m venv .smoke-other-venv && .smoke-other-venv/bin/python -m pip install -q --upgrade pip \
	  && .smoke-other-venv/bin/python -m pip install -q "$$(ls $(WHEEL_DIR)/*.whl)[local]" \
	  && (cd /tmp && $(CURDIR)/.smoke-other-venv/bin/python $(CURDIR)/tests/smoke/wheel_smoke.py) || exit 1; \
	done; rm -rf .smoke-other-venv

# The source distribution, built, then installed into a fresh venv by pip (which compiles
# the Rust itself, as on a platform without a wheel) and smoke-tested like the wheel.
SDIST_DIR := dist-sdist
sdist: venv
	rm -rf $(SDIST_DIR)
	$(BIN)/maturin sdist --out $(SDIST_DIR)

# pip builds in target/ for the host (the wheel's own triple), so the crates the wheel's
# build compiled are reused; this package's crate is compiled from the sdist's sources
# (its earlier build removed first: cargo would take it as fresh).
HOST_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
smoke-sdist: sdist
	@echo "== installing the sdist into a fresh venv (pip compiles the package's crate)"
	rm -rf .smoke-sdist-venv
	$(PYTHON) -m venv .smoke-sdist-venv
	.smoke-sdist-venv/bin/python -m pip install -q --upgrade pip
	cargo clean -q -p quri-parts-oqtopus-core --release --target $(HOST_TRIPLE)
	CARGO_TARGET_DIR=$(CURDIR)/target MATURIN_PEP517_ARGS="--target $(HOST_TRIPLE)" \
	  .smoke-sdist-venv/bin/python -m pip install -q "$$(ls $(SDIST_DIR)/*.tar.gz)[local]"
	cd /tmp && $(CURDIR)/.smoke-sdist-venv/bin/python $(CURDIR)/tests/smoke/wheel_smoke.py

demo: install
	$(BIN)/oqtopus-local demo

bench: install ref-venv
	OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python benches/compare.py
	OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python benches/time_to_result.py
	$(BIN)/python benches/load.py
	OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python benches/workload.py

# A short run of both benchmarks, so that they never rot; the figures come from `make bench`.
bench-smoke:
	OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python benches/compare.py --quick --repeat 1
	OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python benches/time_to_result.py --quick
	$(BIN)/python benches/load.py --jobs 40 --threads 4
	OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python benches/packing.py --quick
	OQTOPUS_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python benches/workload.py --quick

# Coverage-guided fuzzing of the Rust parsers (cargo-fuzz: libFuzzer with AddressSanitizer),
# FUZZ_SECONDS per target. cargo-fuzz passes nightly-only flags to rustc; RUSTC_BOOTSTRAP=1
# lets the stable toolchain accept them. A crash stops the run: its input is left in
# fuzz/artifacts/<target>/, the log in fuzz/logs/. Not part of `ci` (tests/test_native_fuzz.py is).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := qasm_parse counts_json pauli archive
FUZZ := RUSTC_BOOTSTRAP=1 cargo fuzz

fuzz:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	$(FUZZ) build -O
	mkdir -p fuzz/logs
	for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$target; \
	  dict=$$(test -f fuzz/$$target.dict && echo -dict=fuzz/$$target.dict); \
	  $(FUZZ) run -O $$target fuzz/corpus/$$target fuzz/seeds/$$target -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 \
	    $$dict > fuzz/logs/$$target.log 2>&1 \
	    || { tail -n 40 fuzz/logs/$$target.log; echo "fuzz: $$target FAILED"; exit 1; }; \
	  echo "fuzz: $$target: $$(grep -o '[0-9]* runs in [0-9]* second' fuzz/logs/$$target.log)s," \
	    "corpus $$(ls fuzz/corpus/$$target | wc -l) inputs," \
	    "$$(grep -o 'cov: [0-9]*' fuzz/logs/$$target.log | tail -n 1) edges, 0 crashes"; \
	done

# The phases of CI, each stamped with the time it starts. The Rust checks and the reference
# venv side by side (cargo and pip), then the wheel and the venvs that need it. The tests
# marked timing run once, under load (two workers on the first CPU beside a busy loop), with 20
# fault schedules; the rest, slow ones included, on every core. Steps that leave a core
# idle run side by side (output shown per step when it ends): the checks that use one core
# beside the sdist's compile (mostly one: fat LTO in one codegen unit), and the smoke tests
# and the getter run, on the last CPU, beside the loaded run of the timing tests on the first.
PHASE = @echo "== [$$(date +%T)] $(1)"
ci:
	$(call PHASE,rust checks beside the reference venv)
	$(MAKE) --no-print-directory -j2 -O rust-check ref-venv
	$(call PHASE,the wheel into .venv with tranqu and the oldest QURI Parts)
	$(MAKE) --no-print-directory install tranqu oldest-venv
	$(call PHASE,lint and docs beside the sdist)
	$(MAKE) --no-print-directory -j2 -O ci-checks smoke-sdist
	$(call PHASE,pytest on every core)
	$(MAKE) --no-print-directory pytest PYTEST_ARGS="--runslow -m 'not timing' --durations=10"
	$(call PHASE,the timing tests under load beside the smokes and the getter run)
	FAULT_SCHEDULES=20 $(MAKE) --no-print-directory -j2 -O pytest-loaded ci-smokes \
	  LOADED_TESTS="-m timing --runslow --durations=10"
	$(call PHASE,done)

ci-checks:
	$(MAKE) --no-print-directory -j1 wheel-check lint docs

ci-smokes:
	taskset -c $(LAST_CPU) $(MAKE) --no-print-directory -j1 smoke-run bench-smoke
	$(MAKE) --no-print-directory pytest-getters PYTEST_WORKERS="-n 2 --dist loadscope" \
	  PYTEST="taskset -c $(LAST_CPU) $(PYTEST)"

clean:
	rm -rf $(VENV) .smoke-venv .smoke-sdist-venv $(REF_VENV) $(OLDEST_VENV) $(WHEEL_DIR) $(SDIST_DIR) target fuzz/target
