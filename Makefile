# "Why is my MNIST model wrong?" — every target bootstraps the course environment first.
# Quickstart on a fresh machine:   make lessons   then   make test
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON  ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PROFILE ?= workshop
SEED    ?= 0
SEEDS   ?= 0 1 2 3 4
KEEP    ?= 3
# pytest workers (unit, smoke, nbval): a lesson keeps about one core busy, so two kernels at a
# time use a 2-core machine fully. TEST_JOBS=0 runs the tests one by one.
TEST_JOBS ?= 2
LAB_DIR ?= notebooks
# Test runs write their results here, never over a learner's own runs in build/lessons.
TEST_BUILD := build/test-runs

.PHONY: help setup lab lessons evidence rejudge sweep prune handouts site student doctor report bench test unit smoke nbval e2e lint \
        wheelhouse data outputs lock clean clean-all

help:  ## list the targets, grouped by who uses them
	@awk 'BEGIN {FS = ":.*## "} /^##@ / {printf "\n%s\n", substr($$0, 5)} /^[a-z0-9-]+:.*## / && $$1 != "help" {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null || { \
	  echo "The course needs Python 3.11 ('$(PYTHON)' is missing or another version)."; \
	  echo "Install Python 3.11, or point the Makefile at one: make $(MAKECMDGOALS) PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (MNIST course)" >/dev/null
	@touch $(STAMP)
	@echo "Course environment ready in $(VENV)/ (re-created only when requirements.lock changes)."

##@ Learners

setup: $(STAMP)  ## create .venv from requirements.lock (idempotent)

lab: $(STAMP)  ## JupyterLab on 127.0.0.1 (token on) with the course kernel (LAB_DIR=build/student)
	@test -d "$(LAB_DIR)" || { echo "No folder '$(LAB_DIR)'. For student copies run 'make student' first."; exit 1; }
	$(BIN)/jupyter lab --ip=127.0.0.1 --notebook-dir=$(LAB_DIR) $(if $(filter 0,$(shell id -u)),--allow-root,)

lessons: $(STAMP)  ## run the lessons with papermill into build/lessons/ (PROFILE=workshop SEED=0 ONLY="00 08")
	$(BIN)/python -m coursetools.run_lessons --profile $(PROFILE) --seed $(SEED) $(if $(ONLY),--only $(ONLY),)

doctor: $(STAMP)  ## check this machine: versions, cores, data source, expected time per lesson
	$(BIN)/python -m coursetools.doctor

data: $(STAMP)  ## download and verify the full 70k MNIST into the Keras cache (online machines)
	$(BIN)/python -m helpers.data --download

clean:  ## remove test runs and caches (keeps .venv and your lesson runs in build/lessons)
	rm -rf $(TEST_BUILD) .ruff_cache .pytest_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
	@echo "Kept: .venv/ and build/lessons/ (your executed lessons). 'make clean-all' removes them too."

clean-all: clean  ## also remove .venv and build/ (your executed lessons and results!)
	rm -rf $(VENV) build

##@ Instructors

handouts: $(STAMP)  ## HTML (+ PDF with Chromium) handouts of the executed lessons into build/handouts/ (FROM=folder)
	$(BIN)/python -m coursetools.handouts $(if $(FROM),--from $(FROM),)

site: $(STAMP)  ## course website (lessons, search, ledger, workshop guide) into build/site/, offline (FROM=folder)
	$(BIN)/python -m coursetools.site $(if $(FROM),--from $(FROM),)

student: $(STAMP)  ## student copies (solutions replaced by stubs, outputs cleared) into build/student/
	$(BIN)/python -m coursetools.student

report: $(STAMP)  ## claims ledger from the committed evidence/ (or FROM=build/lessons) into build/report.md/.html
	$(BIN)/python -m coursetools.report $(if $(FROM),--results $(FROM),)

prune: $(STAMP)  ## list kept older results/models in build/lessons (KEEP=3); add YES=1 to delete them
	$(BIN)/python -m coursetools.prune --keep $(KEEP) $(if $(filter 1 yes true,$(YES)),--yes,)

wheelhouse: $(STAMP)  ## download every pinned package into build/wheelhouse/ (offline installs, same platform)
	$(BIN)/python -m pip download --quiet --disable-pip-version-check -r requirements.lock -d build/wheelhouse
	@echo "Offline install on a machine like this one: copy the course folder (with build/wheelhouse), then"
	@echo "  PIP_NO_INDEX=1 PIP_FIND_LINKS=build/wheelhouse make setup"

##@ Maintainers

test: unit smoke nbval e2e  ## everything CI runs: unit, notebook execution, nbval, JupyterLab in Chromium

unit: $(STAMP)  ## unit tests of helpers and coursetools (fast, offline)
	COURSE_BUILD_DIR=$(TEST_BUILD) $(BIN)/python -m pytest -m "not notebooks and not browser" -q -n $(TEST_JOBS)

smoke: $(STAMP)  ## execute notebooks with papermill: smoke profile, student copies, reproducibility
	COURSE_BUILD_DIR=$(TEST_BUILD) $(BIN)/python -m pytest -m notebooks -q -n $(TEST_JOBS) --dist loadgroup --durations=12

nbval: $(STAMP)  ## re-run the committed notebooks (workshop profile) and compare their outputs
	COURSE_BUILD_DIR=$(TEST_BUILD) COURSE_PROFILE=workshop $(BIN)/python -m pytest -q --nbval --durations=12 \
	  -n $(TEST_JOBS) --dist loadscope --no-loadscope-reorder \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600 notebooks/

e2e: $(STAMP)  ## JupyterLab end to end in headless Chromium (skips, saying why, without Chromium)
	COURSE_BUILD_DIR=$(TEST_BUILD) $(BIN)/python -m pytest -m browser -q -rs

lint: $(STAMP)  ## ruff check and format check on helpers, coursetools, tests and notebooks
	$(BIN)/ruff check helpers coursetools tests notebooks
	$(BIN)/ruff format --check helpers coursetools tests notebooks

evidence: $(STAMP)  ## calibrate: run the lessons at PROFILE for each of SEEDS, record them in evidence/
	@failed=""; for s in $(SEEDS); do \
	  $(BIN)/python -m coursetools.run_lessons --profile $(PROFILE) --seed $$s $(if $(ONLY),--only $(ONLY),) \
	    || failed="$$failed $$s"; done; \
	$(BIN)/python -m coursetools.record_evidence $(foreach s,$(SEEDS),build/lessons/$(PROFILE)-seed$(s)) $(if $(ONLY),--only $(ONLY),); \
	if [ -n "$$failed" ]; then echo "Lessons failed at seed(s)$$failed: see above; evidence records what they measured."; exit 1; fi

rejudge: $(STAMP)  ## re-judge the committed evidence by the notebooks' current claim rules (no training)
	$(BIN)/python -m coursetools.record_evidence --rejudge

sweep: $(STAMP)  ## lessons x SEEDS x PROFILES on Dask (SCHEDULER=tcp://host:8786 for a cluster; WORKERS; ONLY; RECORD=1)
	$(BIN)/python -m coursetools.sweep --profiles $(or $(PROFILES),$(PROFILE)) --seeds $(or $(SEEDS),0) \
	  $(if $(ONLY),--only $(ONLY),) $(if $(SCHEDULER),--scheduler $(SCHEDULER),) \
	  $(if $(WORKERS),--workers $(WORKERS),) $(if $(RECORD),--record,)

bench: $(STAMP)  ## benchmarks: notebook wall times per profile, training throughput, peak memory
	$(BIN)/python -m coursetools.bench $(BENCH_ARGS)

outputs: $(STAMP)  ## re-execute notebooks in place at workshop (NB=notebooks/01_*.ipynb) and clean metadata
	$(BIN)/python -m coursetools.refresh_outputs $(or $(NB),notebooks/[0-9]*.ipynb)

lock: $(STAMP)  ## rewrite requirements.lock from the current .venv (review the diff!)
	$(BIN)/python -m coursetools.write_lock
