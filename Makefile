# The two commands of the README: `make lab` and `make test`.
# Needs only Python 3.11 and pip: everything goes into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ASSIGNMENTS := $(notdir $(wildcard course/source/*))

.PHONY: lab instructor release test setup setup-test clean demo

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is needed; set PYTHON=/path/to/python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installed once; re-run when pyproject.toml changes.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test,oracle,browser,cluster]"
	@touch $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

# Build the student notebooks (course/release/) and open them in JupyterLab.
release: setup
	cd course && for a in $(ASSIGNMENTS); do PATH="$(CURDIR)/$(BIN):$$PATH" nbgrader generate_assignment "$$a" --force --quiet || exit 1; done

lab: release
	@mkdir -p course/release
	$(BIN)/jupyter lab --ServerApp.root_dir=course/release

# The instructor's view: the source notebooks with solutions and hidden tests.
instructor: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=course/source

# The whole instructor cycle on sample submissions, headless: generate_assignment,
# sample students in course/submitted/, parallel autograde, feedback, grades CSV, mistakes table.
demo: setup
	$(BIN)/python -m autograder demo --quiet

test: setup-test
	$(BIN)/python -m pytest

clean:
	rm -rf course/release course/submitted course/autograded course/feedback course/gradebook.db course/autograder_results
