# The two commands of the README.  Both create .venv on first use.
#   make demo   set up, list the exercises, grade the shipped references
#   make test   set up with the test extra, check generated files, run the whole test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch first, pinned: 2.13.0 is the CPU build this project's machines install from a local
# store in seconds; any other spec pulls a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: demo test setup setup-test clean

# Installing takes minutes on a fresh machine: each step says what it does, and pip shows its own
# progress (no -q on the long steps).
$(BIN)/python:
	@echo "==> mlkata setup: creating $(VENV)"
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "==> mlkata setup: installing $(TORCH) (CPU build; the largest step)"
	$(BIN)/pip install --progress-bar on $(TORCH)
	@echo "==> mlkata setup: installing mlkata and its dependencies"
	$(BIN)/pip install --progress-bar on -e .
	@echo "==> mlkata setup: done"
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	@echo "==> mlkata setup: installing the test extra (the libraries the twins compare with, nbgrader, JupyterLab)"
	$(BIN)/pip install --progress-bar on -e '.[test]'
	touch $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

demo: setup
	@echo "==> the exercises, then every reference graded (full marks expected)"
	$(BIN)/mlkata list
	$(BIN)/mlkata grade --submission solutions --quiet

test: setup-test
	$(BIN)/mlkata build --check
	@# pytest exits 5 when it collected no test: that is a failure here, and says so.
	$(BIN)/pytest tests -n 2 --dist loadgroup -q; s=$$?; [ $$s -ne 5 ] || echo "pytest collected no tests" >&2; exit $$s

clean:
	rm -rf $(VENV)
