# The two commands of the README: `make lab` and `make test`.
# Needs only Python 3.11, 3.12 or 3.13 and pip: everything goes into .venv.
# Another Python: `make lab PYTHON=python3.12` (a .venv made with another version is refused).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ASSIGNMENTS := $(notdir $(wildcard course/source/*))
SUPPORTED := 3.11, 3.12 or 3.13

# JupyterLab refuses to start as root unless told; as root (a container, a cloud VM) we tell it.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
ROOT_NOTE  := @echo "make: running as root (a container or a cloud VM?) so JupyterLab starts with --allow-root"
# Extra arguments for JupyterLab, e.g. `make lab LAB_ARGS="--ip=0.0.0.0 --port=8888"` in a container.
LAB_ARGS ?=

.PHONY: lab instructor release test test-python setup setup-test clean demo student-edition check-python check-interpreter

# The interpreter: present, a supported version, and able to make a venv.
check-interpreter:
	@$(PYTHON) -c 'import sys' >/dev/null 2>&1 || { echo "make: cannot run '$(PYTHON)'. This course needs Python $(SUPPORTED); pick one with e.g. make lab PYTHON=python3.12"; exit 1; }
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v <= (3, 13) else "make: %s is Python %d.%d. This course needs Python $(SUPPORTED); pick one with e.g. make lab PYTHON=python3.12" % ((sys.executable,) + v))'
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { echo "make: $(PYTHON) cannot make a virtual environment (Debian/Ubuntu: apt-get install python3-venv)"; exit 1; }

# ... and, when picked on the command line, the version $(VENV) was made with.
check-python: check-interpreter
	@if [ -x $(BIN)/python ] && [ "$(origin PYTHON)" = "command line" ]; then \
	  want=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  have=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  [ "$$want" = "$$have" ] || { echo "make: $(VENV) was made with Python $$have, not $$want: remove it (rm -rf $(VENV)) or pass VENV=.venv-$$want"; exit 1; }; \
	fi

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installed once; re-run when a pyproject.toml changes. Both distributions, editable:
# the students' toolbox (toolbox/, bpttlab) and the instructor's package (solutions, autograder).
$(VENV)/.installed: $(BIN)/python pyproject.toml toolbox/pyproject.toml
	$(BIN)/pip install --quiet -e ./toolbox -e .
	@touch $@

# The test extras: pytest, the PyTorch oracle (on 3.11 only: see pyproject.toml), Playwright.
TEST_EXTRAS ?= test,oracle,browser,cluster
$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ./toolbox -e ".[$(TEST_EXTRAS)]"
	@touch $@

setup: check-python $(VENV)/.installed
setup-test: check-python $(VENV)/.installed-test

# Build the student notebooks (course/release/) and open them in JupyterLab.
release: setup
	cd course && for a in $(ASSIGNMENTS); do PATH="$(CURDIR)/$(BIN):$$PATH" nbgrader generate_assignment "$$a" --force --quiet || exit 1; done

lab: release
	@mkdir -p course/release
	$(if $(ALLOW_ROOT),$(ROOT_NOTE))
	$(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir=course/release $(LAB_ARGS)

# The instructor's view: the source notebooks with solutions and hidden tests.
instructor: setup
	$(if $(ALLOW_ROOT),$(ROOT_NOTE))
	$(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir=course/source $(LAB_ARGS)

# The whole instructor cycle on sample submissions, headless: generate_assignment,
# sample students in course/submitted/, parallel autograde, feedback, grades CSV, mistakes table.
demo: setup
	$(BIN)/python -m autograder demo --quiet

# What students get: dist/student-edition/ and dist/student-edition.zip (release notebooks,
# the toolbox wheel, requirements.txt and environment.yml for Binder, a README). Options:
# `make student-edition EDITION_ARGS="01_unrolling 02_bptt --toolbox-url https://.../bpttlab-0.1.0-py3-none-any.whl"`.
EDITION_ARGS ?=
student-edition: setup
	$(BIN)/python -m autograder publish $(EDITION_ARGS)

test: setup-test
	$(BIN)/python -m pytest

# The student path and the grader on another Python, in a venv of its own (CI runs it on
# 3.12 and 3.13; the full suite runs on 3.11): make test-python PYTHON=python3.12
PORTABLE_TESTS := tests/test_edition.py tests/test_packaging.py tests/test_makefile.py tests/test_course_notebooks.py \
                  tests/test_autograder_cli.py $(wildcard tests/test_bpttlab_*.py)
# Its venv is .venv-X.Y whatever .venv holds, so it runs next to the 3.11 one.
PYTHON_VERSION = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
test-python: check-interpreter
	$(MAKE) --no-print-directory setup-test PYTHON=$(PYTHON) VENV=.venv-$(PYTHON_VERSION) TEST_EXTRAS=test
	@echo "make test-python: Python $(PYTHON_VERSION) (.venv-$(PYTHON_VERSION)): the student path and the grader"
	.venv-$(PYTHON_VERSION)/bin/python -m pytest $(PORTABLE_TESTS)

clean:
	rm -rf course/release course/submitted course/autograded course/feedback course/gradebook.db course/autograder_results dist
