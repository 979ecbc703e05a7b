# esus-runbook — alvos: setup, demo, test, bench, docs, wheel (cada um cria o .venv se faltar)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.instalado
KERNEL := esus-runbook

.PHONY: setup demo test flaky bench lint docs wheel clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (esus-runbook)" >/dev/null
	@touch $(STAMP)
	@echo "Ambiente pronto em $(VENV) (kernel '$(KERNEL)' registrado)."

# A demonstração sobe o SIMULADOR de PEC (examples/pec_simulado.py) em duas portas livres de
# 127.0.0.1 (ou nas de ESUS_DEMO_PORTA_CENTRO e ESUS_DEMO_PORTA_VILA), copia examples/ para
# execucoes/.demo-XXXXXX com esses endereços (duas demonstrações na mesma máquina nunca se
# encontram) e sempre encerra o simulador ao sair (trap), com sucesso, erro ou Ctrl+C. O lote
# da demonstração tem sites com falhas e pendências de propósito: as saídas 0, 1 (falhas) e 3
# (pendente) seguem; 2 (entrada recusada) e 130 (interrompido) param (docs: Códigos de saída).
demo: setup
	@mkdir -p execucoes; pronto=$$(mktemp -u); entradas=$$(mktemp -d execucoes/.demo-XXXXXX); \
	  $(BIN)/python examples/pec_simulado.py --pronto $$pronto \
	    --instancia $${ESUS_DEMO_PORTA_CENTRO:-0}=0.0.1 --instancia $${ESUS_DEMO_PORTA_VILA:-0}=0.0.0 >/dev/null & sim=$$!; \
	  trap 'kill $$sim 2>/dev/null; wait $$sim 2>/dev/null; rm -f $$pronto' EXIT INT TERM; \
	  for i in $$(seq 100); do [ -f $$pronto ] && break; kill -0 $$sim 2>/dev/null || break; sleep 0.1; done; \
	  [ -f $$pronto ] || { echo "o simulador de PEC não iniciou (portas de ESUS_DEMO_PORTA_* ocupadas?)" >&2; exit 2; }; \
	  inventario=$$($(BIN)/python -m esus_runbook.demo.demo_inputs --pronto $$pronto --destino $$entradas) || exit 2; \
	  set -a; . examples/demo.env; set +a; \
	  $(BIN)/esus-runbook lote $$inventario --execucoes execucoes; rc=$$?; \
	  case $$rc in 0|1|3) ;; *) exit $$rc;; esac; \
	  $(BIN)/python -m esus_runbook.demo.update_demo --execucoes execucoes || exit $$?; \
	  $(BIN)/esus-runbook dossie --todos --execucoes execucoes || exit $$?; \
	  $(BIN)/esus-runbook painel --execucoes execucoes || exit $$?; \
	  echo "Abra no navegador o consolidado (rollup.html) e o painel indicados acima."; \
	  echo "Painel de todas as execuções: $$(pwd)/execucoes/painel.html"

test: setup
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# Flakiness finder (docs/testes.md): the slow tiers N times and the fast tier under -n 2 in
# random order; lists every test whose outcome changed. Reports in test-artifacts/flaky/.
N ?= 5
FLAKY_ARGS ?=
flaky: setup
	$(BIN)/python -m tests.support.flaky --runs $(N) $(FLAKY_ARGS)

bench: setup
	$(BIN)/python -m benchmarks

lint: setup
	$(BIN)/ruff check .

# Site de documentação (pt-BR) em site-docs/; as páginas de referência são geradas do código
# (docs/gen_ref.py) a cada build. --strict: um link quebrado ou aviso para o build.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --quiet
	@echo "Documentação: $$(pwd)/site-docs/index.html"

# A roda (inclui os notebooks) para instalar sem o checkout: docs/instalacao.md.
wheel: setup
	$(BIN)/python -m pip wheel --no-deps --quiet -w dist .
	@ls dist/esus_runbook-*.whl

clean:
	rm -rf $(VENV) execucoes .pytest_cache site-docs dist
