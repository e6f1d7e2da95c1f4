# Two entry points: `make run` (set up, index the shipped corpus, start the web app)
# and `make test` (set up, run the test suite). Both work on a fresh machine.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: setup run test eval eval-real bench load browser-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/python -m ingest corpus/
	$(BIN)/python app.py --host $(HOST) --port $(PORT)

browser-deps:
	@# a CJK font, or screenshots of the Chinese UI show only boxes
	@(command -v chromium >/dev/null && fc-list :lang=zh | grep -q .) || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null)

test: setup browser-deps
	$(BIN)/python -m pytest -q

eval: setup
	$(BIN)/python -m evals.run

# `make bench` = the real 1,000-law corpus; `make bench LIMIT=100` for a subset; WORKDIR=dir keeps the scratch dir there.
LAWS ?= ../shared/realdocs/scale/laws-1000.tar.xz
bench: setup
	$(BIN)/python -m evals.bench --laws $(LAWS) $(if $(LIMIT),--limit $(LIMIT)) $(if $(WORKDIR),--workdir $(WORKDIR))

load: setup
	$(BIN)/python -m evals.load --start-app --clients 20 --questions 200

# Real-document and paraphrase splits: thresholds are fitted on `calibrate`, figures are reported on `report`.
REALDOCS ?= ../shared/realdocs/docs
EVAL_DIR ?= .zhengce-eval
eval-real: setup
	ZHENGCE_DATA_DIR=$(EVAL_DIR) $(BIN)/python -m ingest -q $(REALDOCS) corpus/ evals/fresh2_docs/ evals/fresh3_docs/ evals/fresh5_docs/
	for split in calibrate report; do for set in realdocs paraphrase; do \
		echo "== $$set / $$split"; \
		ZHENGCE_DATA_DIR=$(EVAL_DIR) $(BIN)/python -m evals.run --no-baseline --cases evals/$${set}_cases.yaml --split $$split; \
	done; done
	@echo "== fresh: 45 questions written by another agent without running the assistant (fresh-dev 20 worked on, fresh 25 held out)"
	for split in fresh-dev fresh; do echo "== fresh / $$split"; \
		ZHENGCE_DATA_DIR=$(EVAL_DIR) $(BIN)/python -m evals.run --no-baseline --cases evals/fresh_cases.yaml --split $$split; done
	@echo "== fresh2: 50 questions (39 on six laws in evals/fresh2_docs/) written without running the assistant (fresh2-dev 28, fresh2 22 held out)"
	for split in fresh2-dev fresh2; do echo "== fresh2 / $$split"; \
		ZHENGCE_DATA_DIR=$(EVAL_DIR) $(BIN)/python -m evals.run --no-baseline --cases evals/fresh2_cases.yaml --split $$split; done
	@echo "== fresh3: 60 questions (42 on six laws in evals/fresh3_docs/) written without running the assistant (dev since 2026-12-03 19:00)"
	ZHENGCE_DATA_DIR=$(EVAL_DIR) $(BIN)/python -m evals.run --no-baseline --cases evals/fresh3_cases.yaml --split fresh3
	@echo "== fresh4: 60 questions on the real documents and the seed pages, written without running the assistant (fresh4-dev 27 worked on, fresh4 33 held out)"
	for split in fresh4-dev fresh4; do echo "== fresh4 / $$split"; \
		ZHENGCE_DATA_DIR=$(EVAL_DIR) $(BIN)/python -m evals.run --no-baseline --cases evals/fresh4_cases.yaml --split $$split; done
	@echo "== fresh5: 68 questions on six new documents in evals/fresh5_docs/ (city, county and school notices, two regulations), written without running the assistant (fresh5-dev 27 worked on, fresh5 41 held out)"
	for split in fresh5-dev fresh5; do echo "== fresh5 / $$split"; \
		ZHENGCE_DATA_DIR=$(EVAL_DIR) $(BIN)/python -m evals.run --no-baseline --cases evals/fresh5_cases.yaml --split $$split; done
	@echo "== fresh6: 60 questions (30 unanswerable) on fresh5_docs and the real documents, written without running the assistant (fresh6-dev 39 worked on, fresh6 21 held out)"
	for split in fresh6-dev fresh6; do echo "== fresh6 / $$split"; \
		ZHENGCE_DATA_DIR=$(EVAL_DIR) $(BIN)/python -m evals.run --no-baseline --cases evals/fresh6_cases.yaml --split $$split; done
