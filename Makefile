# The course's commands. Every target builds the virtual environment it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# nbgrader runs helper programs (alembic) by name: put the venv first on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

ASSIGNMENTS := $(notdir $(patsubst %/,%,$(dir $(wildcard source/*/*.ipynb))))

# Grading runs student code in bubblewrap (coursekit/sandbox.py).
# SANDBOX=off grades without it: only on a throw-away machine.
SANDBOX ?= on
export COURSEKIT_SANDBOX := $(SANDBOX)

# LANG=ko picks the Korean edition for make release and make student-pack
# (the exercises and lessons built from locale/ko/ by coursekit.translate):
# any language with a folder in locale/. Anything else, the shell's own
# locale (C.UTF-8, en_US.UTF-8) included, is the English edition.
EDITION := $(if $(and $(LANG),$(wildcard locale/$(LANG)/.)),$(LANG),en)
export COURSEKIT_EDITION := $(EDITION)
ifneq ($(EDITION),en)
override LANG := C.UTF-8
export LANG
endif
TRANSLATED := $(notdir $(patsubst %/.,%,$(wildcard locale/*/.)))

.PHONY: demo demo-needs-sandbox test grade release lab student-pack venv clean sandbox browser postgres node hub translations

# The demo grades a sample that loops forever: a 10 s cell limit keeps it short.
demo: export COURSEKIT_CELL_TIMEOUT ?= 10
demo: demo-needs-sandbox grade

# Some samples attack the machine: outside the sandbox they would really
# overwrite source/ and the gradebook.
demo-needs-sandbox:
	@if [ "$(SANDBOX)" = off ]; then \
	  echo "make demo grades samples that attack the machine: it runs only with the sandbox."; \
	  echo "Without bubblewrap, try: make test SANDBOX=off"; exit 1; fi

test: $(VENV)/.installed sandbox browser postgres node translations
	$(BIN)/python -m pytest

grade: release sandbox
	$(BIN)/python -m coursekit.grade $(if $(FORCE),--force)

# bubblewrap is a system package: installed here when we are root on Debian
# or Ubuntu (containers, CI); otherwise the message says what to do.
sandbox:
	@if [ "$(SANDBOX)" != off ] && ! command -v bwrap >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing bubblewrap (the grading sandbox)"; \
	    apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null || exit 1; \
	  else \
	    echo "Grading needs bubblewrap: sudo apt-get install bubblewrap (or dnf/pacman)."; \
	    echo "Without it: make test SANDBOX=off runs every test that does not need it, and"; \
	    echo "make grade SANDBOX=off grades unsandboxed (only on a throw-away machine: see README)."; \
	    exit 1; \
	  fi; \
	fi

# The browser tests drive Chromium: installed here when we are root on Debian
# or Ubuntu; elsewhere those tests skip and say what to install.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium and chromium-driver (the browser tests)"; \
	    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "chromium could not be installed: the browser tests will skip"; \
	  else \
	    echo "No chromium: the browser tests skip (sudo apt-get install chromium chromium-driver)."; \
	  fi; \
	fi

# The gradebook test on PostgreSQL starts a server of its own from the
# distribution's binaries: installed here as the browser is; otherwise it skips.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing postgresql (the PostgreSQL gradebook test)"; \
	    (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) \
	      || echo "postgresql could not be installed: its test will skip"; \
	  else \
	    echo "No PostgreSQL: its test skips (sudo apt-get install postgresql)."; \
	  fi; \
	fi

# The JupyterHub test needs node and npm for the hub's proxy: installed here as
# the browser is, then the proxy itself (npm ci); otherwise that test skips.
node:
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing nodejs and npm (JupyterHub's proxy)"; \
	    (apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null) \
	      || echo "nodejs could not be installed: the JupyterHub test will skip"; \
	  else \
	    echo "No npm: the JupyterHub test skips (sudo apt-get install nodejs npm)."; \
	  fi; \
	fi
	@if command -v npm >/dev/null; then \
	  $(MAKE) --no-print-directory $(PROXY) || echo "no proxy: the JupyterHub test will skip"; fi

# JupyterHub's proxy, from the npm registry at the version deploy/package-lock.json pins.
PROXY := deploy/node_modules/.bin/configurable-http-proxy
$(PROXY): deploy/package.json deploy/package-lock.json
	cd deploy && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# JupyterHub for the class on this machine, run as root (README: "Running the
# class on a server"); deploy/jupyterhub_config.py reads its settings from the
# environment: the exchange, the students' group, the instructor, the course.
hub: $(VENV)/.installed $(PROXY)
	$(BIN)/jupyterhub -f deploy/jupyterhub_config.py

# An assignment is generated again only when its source/ folder or the
# configuration changed since it was last generated here (make's own
# dependencies, on a stamp per assignment; make clean removes the stamps with
# the gradebook).
RELEASED := .coursekit-cache/released-$(EDITION)
release: $(if $(filter-out en,$(EDITION)),translations) $(ASSIGNMENTS:%=$(RELEASED)/%)

.SECONDEXPANSION:
$(RELEASED)/%: $$(shell find source/% -type f) $$(wildcard locale/$(EDITION)/source/%.po) nbgrader_config.py $(VENV)/.installed
	@echo "nbgrader generate_assignment $* --force$(if $(filter-out en,$(EDITION)), (edition $(EDITION), into release-$(EDITION)/))"
	@$(BIN)/nbgrader generate_assignment $* --force --log-level=ERROR
	@mkdir -p $(RELEASED) && touch $@

# The translated notebooks (build/<lang>/): lessons and masters from locale/<lang>/.
translations: $(VENV)/.installed
	@for lang in $(TRANSLATED); do $(BIN)/python -m coursekit.translate build $$lang >/dev/null || exit 1; done

# The instructor's JupyterLab, at the course root (the formgrader's links need it).
# Jupyter refuses to run as root unless told: containers often are root.
lab: $(VENV)/.installed
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

# What students get: lessons, exercises, the check helper; no answers.
student-pack: release
	$(BIN)/python -m coursekit.pack --out student-pack --lang $(EDITION) $(if $(THROUGH),--through $(THROUGH))

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

clean:
	rm -rf autograded feedback gradebook.db grades.csv grades-report.html grades-report .coursekit-cache student-pack student-pack.zip build release-ko
