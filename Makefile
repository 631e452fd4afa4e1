# The course's commands. Every target builds the virtual environment it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# nbgrader runs helper programs (alembic) by name: put the venv first on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

ASSIGNMENTS := $(notdir $(patsubst %/,%,$(dir $(wildcard source/*/*.ipynb))))

.PHONY: demo test grade release lab venv clean

demo: grade

test: $(VENV)/.installed
	$(BIN)/python -m pytest

grade: release
	$(BIN)/python -m coursekit.grade

release: $(VENV)/.installed
	@for a in $(sort $(ASSIGNMENTS)); do \
	  echo "nbgrader generate_assignment $$a --force"; \
	  $(BIN)/nbgrader generate_assignment $$a --force --log-level=WARN || exit 1; \
	done

# Jupyter refuses to run as root unless told: containers often are root.
lab: $(VENV)/.installed
	$(BIN)/jupyter lab release/ $(if $(filter 0,$(shell id -u)),--allow-root)

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

clean:
	rm -rf autograded feedback gradebook.db grades.csv .coursekit-cache
