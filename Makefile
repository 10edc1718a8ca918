# orch developer and user entry points. Every target installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test lint fixtures docker demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "orch needs Python >= 3.10 on the host; found $$($(PYTHON) --version 2>&1)."; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
		{ echo "Installing python3-venv (Debian/Ubuntu)..."; apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null 2>&1; } || \
		echo "Graphviz is not installed: orch show --format svg|png will say so (apt-get install graphviz)."
	@touch $@

test: install lint fixtures
	$(BIN)/python -m pytest -q

# A Docker engine (installed and started if missing, as root) and the offline base image.
docker: install
	./scripts/ensure-docker.sh
	$(BIN)/orch images bootstrap

# Everything the tests need from the network, fetched before they run: the tests themselves stay on loopback.
fixtures: install docker
	@for tool in docker-registry:docker-registry chromium:chromium chromedriver:chromium-driver dot:graphviz; do \
		command -v $${tool%%:*} >/dev/null && continue; \
		echo "Installing $${tool#*:} (for the Batch registry, report browser and picture tests)..."; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $${tool#*:} >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $${tool#*:} >/dev/null; } || exit 1; \
	done
	$(BIN)/python tests/fixtures/pypi_wheels.py
	$(BIN)/python tests/fixtures/conda_channel.py
	$(BIN)/python -c 'import sys; sys.path.insert(0, "."); from benchmarks.metaflow_env import metaflow_python; metaflow_python()'

lint: install
	$(BIN)/ruff check orchestrator tests benchmarks
	$(BIN)/ruff format --check orchestrator tests benchmarks

demo: install docker
	$(BIN)/orch check examples/genre_stats_flow.py
	cd examples/pandas_versions && ../../$(BIN)/orch build-envs pypi_flow.py
	cd examples/pandas_versions && ../../$(BIN)/orch run pypi_flow.py --executor docker
	cd examples && ../$(BIN)/orch run genre_stats_flow.py --executor docker
	@echo
	@echo "Results are in examples/.orch and examples/pandas_versions/.orch. Read them in Python:"
	@echo "  cd examples && ../$(BIN)/python -c \"from orchestrator import Flow; print(Flow('GenreStatsFlow').latest_successful_run.data.genre_stats)\""

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .bench .pytest_cache .ruff_cache *.egg-info
