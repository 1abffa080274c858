# Meridian: `make run` serves the demo clinic, `make test` runs every check.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The demo is a development server on loopback HTTP: BOOKING_DEVELOPMENT=true skips the production
# start-up checks (https:// BOOKING_BASE_URL, TRUSTED_HOSTS, Secure cookie, no debug mode); it is
# also passed here for instance/config.py files written before that line was added.
FLASK := BOOKING_DEVELOPMENT=true $(VENV)/bin/flask --app wsgi
PYTHON ?= python3
PORT ?= 5000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

PYBABEL := $(VENV)/bin/pybabel

.PHONY: translations translations-extract translations-init run test test-fast lint format bench install install-dev chromium wrk scaleout-tools assets db clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: requirements.txt $(VENV)/.created
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# A random secret for this machine's development server, kept out of git.
instance/config.py:
	@mkdir -p instance
	@echo "SECRET_KEY = \"$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')\"" > $@
	@echo "DEVELOPMENT = True  # a developer's machine: no production start-up checks" >> $@
	@echo "Wrote $@ with a new SECRET_KEY"

# Email words: babel.cfg says where marked strings are; the .po files are in git, the compiled .mo
# are not (without one the English source text is used, so a fresh clone works before this).
translations: install
	$(PYBABEL) compile --statistics -d booking/translations

# After changing a marked string: refresh the template and every language's .po from it.
translations-extract: install
	$(PYBABEL) extract -F babel.cfg -k gettext -k _ --no-location --sort-output --omit-header \
		-o booking/translations/messages.pot .
	$(PYBABEL) update -i booking/translations/messages.pot -d booking/translations --no-fuzzy-matching

# A new language: make translations-init LANG=cy, then translate booking/translations/cy/.
translations-init: install
	$(PYBABEL) init -i booking/translations/messages.pot -d booking/translations -l $(LANG)

db: install instance/config.py translations
	$(FLASK) db upgrade

run: db
	$(FLASK) seed-demo
	@echo "Serving Meridian on http://127.0.0.1:$(PORT) (Ctrl+C to stop)"
	@echo "Practitioner calendar: sign in as mei.chen@meridian.example, open /practitioner/week"
	BOOKING_BASE_URL="$${BOOKING_BASE_URL:-http://127.0.0.1:$(PORT)}" $(FLASK) run --host 127.0.0.1 --port $(PORT)

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi

# The scale-out test (tests/scaleout) runs Debian's HAProxy and PgBouncer as plain child
# processes with configs from deploy/; it needs Redis on 127.0.0.1:6379 and TEST_DATABASE_URL.
scaleout-tools:
	@if ! command -v haproxy >/dev/null || [ ! -x /usr/sbin/pgbouncer ]; then \
		echo "Installing Debian's haproxy and pgbouncer for the scale-out test"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq haproxy pgbouncer >/dev/null; \
	fi

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# --dist loadgroup: the gunicorn group (tests/concurrency, tests/scaleout) is the largest unit,
# so xdist hands it out first and one worker runs it while the other starts on the browser
# tests (collected next); --durations shows where the time goes in each CI log.
test: install-dev chromium scaleout-tools wrk lint
	$(VENV)/bin/pytest -n auto --dist loadgroup --durations=30

# The quick loop while coding (under 2 minutes on 2 cores): SQLite only, no browser, no gunicorn,
# nothing marked slow. `make test` still runs everything. Add `PYTEST_ARGS=--lf` to rerun failures.
test-fast: install-dev
	env -u TEST_DATABASE_URL -u CI $(VENV)/bin/pytest -n auto -q \
		-m "not browser and not concurrency and not scaleout and not slow" -k "not postgresql" $(PYTEST_ARGS)

# wrk drives the benchmarks' loads; the tests run it too (the benchmark smoke tests and the
# wrk script's own test), so `make test` installs it.
wrk:
	@if ! command -v wrk >/dev/null; then \
		echo "Installing Debian's wrk for the API load benchmark"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null; \
	fi

bench: install-dev wrk
	@for script in benchmarks/[!_]*.py; do echo "== $$script"; $(PY) $$script --quick || exit 1; done

# Rebuild static/govuk from the pinned govuk-frontend release (needs npm).
assets:
	bash static/govuk/build/build.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
