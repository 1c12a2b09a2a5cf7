# Set-up and everyday commands. `make run` and `make test` work on a fresh clone.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8501
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install browser reindex clean-index

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Byte-compiles the package as pip does for what it installs (Python skips that where
# PYTHONDONTWRITEBYTECODE is set, and a one-shot search then compiles every module: about 0.05 s).
install: $(VENV)/.installed
	@$(PY) -m compileall -q archivist app.py >/dev/null

# Start the page over archive/ on http://localhost:$(PORT) (builds the index on first start).
run: install
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

reindex: install
	$(PY) -m archivist reindex

# Debian's Chromium for the browser test (never `playwright install`: it downloads a browser).
browser:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	  --no-install-recommends chromium chromium-driver

test: install browser
	$(PY) -m pytest -q
