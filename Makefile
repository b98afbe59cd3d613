# Two commands set everything up on a machine that has only Python 3.11+:
#   make demo   talk to the bot against the embedded Cadence sandbox
#   make test   lint, types and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types pytest bench eval eval-dialog clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cadence-bot chat $(SLUG)

test: lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check .

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)  # two workers: the machine we promise "a few minutes" on has two cores
	$(BIN)/pytest -n 2

bench: $(STAMP)  # every benchmark runs; the exit status says whether any missed its target
	status=0; for b in benchmarks/*.py; do $(BIN)/python $$b || status=1; done; exit $$status

eval: $(STAMP)
	$(BIN)/cadence-bot nlu-eval ../shared/eval/sgd_datetime_train.jsonl

eval-dialog: $(STAMP)  # whole conversations, judged by what they book; transcripts in .eval/
	$(BIN)/cadence-bot dialog-eval ../shared/eval/conversations_dev.jsonl --transcripts .eval/transcripts

clean:
	rm -rf $(VENV) build *.egg-info
