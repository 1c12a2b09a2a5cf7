# Set-up and everyday commands. `make run` and `make test` work on a fresh clone.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8501
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install browser ocr reindex clean-index

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
	-@$(MAKE) --no-print-directory ocr || echo "OCR not installed: scanned PDF pages will be reported, not read"
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

reindex: install
	$(PY) -m archivist reindex

# Debian's Chromium for the browser test (never `playwright install`: it downloads a browser).
browser:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	  --no-install-recommends chromium chromium-driver

# Debian's Tesseract with English for OCR of scanned PDF pages (more languages: tesseract-ocr-deu,
# -fra, ... and ARCHIVIST_OCR_LANGUAGES=eng+deu).
ocr:
	@if [ -x /usr/bin/tesseract ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	  --no-install-recommends tesseract-ocr tesseract-ocr-eng

test: install browser ocr
	$(PY) -m pytest -q
