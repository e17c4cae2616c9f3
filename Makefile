# lossbook: every command a reader, an author or CI needs.  See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BOOK_STAMP := $(VENV)/.book-installed
TEST_STAMP := $(VENV)/.test-installed
# Explorers embed their kernel-free HTML only when the book itself is built.
BUILD_ENV := LOSSBOOK_STATIC=1 MPLBACKEND=module://matplotlib_inline.backend_inline

.PHONY: help book test lab serve execute bench unit nbval build browser clean install

help:
	@echo "make book     build the website into _build/html"
	@echo "make test     unit tests, notebook validation, strict book build, browser test"
	@echo "make lab      JupyterLab with lossbook installed"
	@echo "make serve    serve _build/html on http://localhost:8000"
	@echo "make execute  re-run every notebook in place and save its outputs"
	@echo "make bench    explorer latency and payload figures"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BOOK_STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(TEST_STAMP): requirements-test.txt $(BOOK_STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	@touch $@

install: $(BOOK_STAMP)

book: $(BOOK_STAMP)
	$(BUILD_ENV) $(BIN)/jupyter-book build --keep-going .
	@echo "Book built: $(CURDIR)/_build/html/index.html"

test: $(TEST_STAMP)
	@bash tools/ensure-chromium.sh
	$(MAKE) --no-print-directory unit nbval build browser

unit:
	$(BIN)/python -m pytest tests --ignore=tests/browser

nbval:
	$(BIN)/python -m pytest --nbval chapters --nbval-sanitize-with .nbval-sanitize.cfg -p no:randomly

build:
	$(BUILD_ENV) $(BIN)/jupyter-book build -W -n --keep-going .

browser:
	$(BIN)/python -m pytest tests/browser

lab: $(BOOK_STAMP)
	$(BIN)/jupyter lab chapters

serve:
	@test -f _build/html/index.html || { echo "No site yet: run 'make book' first."; exit 1; }
	$(BIN)/python -m http.server --directory _build/html --bind 127.0.0.1 8000

execute: $(BOOK_STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=120 --ExecutePreprocessor.store_widget_state=False chapters/*.ipynb

bench: $(TEST_STAMP)
	$(BIN)/python -m lossbook.bench

clean:
	rm -rf _build
