# orch developer and user entry points. Every target installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RELEASE ?= .release

.PHONY: install dev test lint docs dist fixtures docker slurm demo bench clean

# orch itself (editable) and what it needs to run: all that `make demo` installs.
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "orch needs Python >= 3.10 on the host; found $$($(PYTHON) --version 2>&1)."; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
		{ echo "Installing python3-venv (Debian/Ubuntu)..."; apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip uninstall -q -y orchestrator 2>/dev/null || true  # orch's distribution name until 0.1.0
	$(BIN)/python -m pip install -q -e .
	@command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null 2>&1; } || \
		echo "Graphviz is not installed: orch show --format svg|png will say so (apt-get install graphviz)."
	@touch $@

# The test, docs and release tools on top (the dev extra: cards' libraries, pytest, ruff, moto, mkdocs, build...).
dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

test: dev lint docs dist fixtures
	$(BIN)/python -m pytest -q

# A Docker engine (installed and started if missing, as root) and the offline base image.
docker: install
	./scripts/ensure-docker.sh
	$(BIN)/orch images bootstrap

# A Slurm cluster (a one-node one, installed and started if none answers, as root) with Charliecloud: the
# way to try `orch run --with slurm` on one machine, and the cluster the Slurm tests submit to.
slurm:
	./scripts/ensure-slurm.sh

# Everything the tests need from the network, fetched before they run: the tests themselves stay on loopback.
fixtures: dev docker slurm
	@for tool in docker-registry:docker-registry chromium:chromium chromedriver:chromium-driver dot:graphviz; do \
		command -v $${tool%%:*} >/dev/null && continue; \
		echo "Installing $${tool#*:} (for the Batch registry, report browser and picture tests)..."; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $${tool#*:} >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $${tool#*:} >/dev/null; } || exit 1; \
	done
	$(BIN)/python tests/fixtures/pypi_wheels.py
	$(BIN)/python tests/fixtures/conda_channel.py
	$(BIN)/python -c 'import sys; sys.path.insert(0, "."); from benchmarks.metaflow_env import metaflow_python; metaflow_python()'

lint: dev
	$(BIN)/ruff check orchestrator tests benchmarks scripts docs/hooks
	$(BIN)/ruff format --check orchestrator tests benchmarks scripts docs/hooks

# The documentation site; --strict turns a broken link or reference into a failure.
docs: dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(RELEASE)/site

# The sdist and wheel users install (no build warning, twine check), installed into a fresh venv,
# not editable: tests/package runs the installed command from outside the checkout.
dist: dev
	$(BIN)/python scripts/release.py --out $(RELEASE)

demo: install docker
	$(BIN)/orch check examples/genre_stats_flow.py
	cd examples/pandas_versions && ../../$(BIN)/orch build-envs pypi_flow.py
	cd examples/pandas_versions && ../../$(BIN)/orch run pypi_flow.py --executor docker
	cd examples && ../$(BIN)/orch run genre_stats_flow.py --executor docker
	@echo
	@echo "Results are in examples/.orch and examples/pandas_versions/.orch. Read them in Python:"
	@echo "  cd examples && ../$(BIN)/python -c \"from orchestrator import Flow; print(Flow('GenreStatsFlow').latest_successful_run.data.genre_stats)\""

bench: dev
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(RELEASE) .bench .pytest_cache .ruff_cache *.egg-info build dist
