# esus-runbook — alvos: setup, demo, test, bench (cada um cria o .venv se faltar)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.instalado
KERNEL := esus-runbook

.PHONY: setup demo test bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (esus-runbook)" >/dev/null
	@touch $(STAMP)
	@echo "Ambiente pronto em $(VENV) (kernel '$(KERNEL)' registrado)."

demo: setup
	@set -a; . examples/demo.env; set +a; \
	  $(BIN)/esus-runbook batch examples/inventario.yaml --out execucoes; rc=$$?; \
	  if [ $$rc -gt 1 ]; then exit $$rc; fi; \
	  echo "Abra o consolidado indicado acima (rollup.html) no navegador."

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m benchmarks

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) execucoes .pytest_cache
