#!/usr/bin/env python3
"""SIMULADOR DE PEC para a demonstração — NÃO é o e-SUS APS PEC.

Abre em 127.0.0.1 dois servidores HTTP que respondem como o PEC responde a
``GET /api/public/info`` (campo ``versao``) e a ``GET /`` (página 200), para que a etapa de
instalação da demonstração tenha algo real para conferir:

* porta 18080 — "PEC" versão 0.0.1 (UBS Centro: tudo certo);
* porta 18081 — "PEC" versão 0.0.0 (UBS Vila Nova: a atualização não foi aplicada).

Toda resposta diz que vem de um simulador (campo ``simulador`` e título da página). O código é
o mesmo dos servidores dos testes (``esus_runbook.demo.pec_simulator``). ``make demo`` inicia este
simulador em segundo plano e o encerra ao final; para usá-lo à mão::

    python examples/pec_simulado.py            # Ctrl+C para parar
    esus-runbook conferir-instalacao --pec-url http://127.0.0.1:18080 --versao-pec 0.0.1
"""

import sys

from esus_runbook.demo.pec_simulator import main

DEMO = ["18080=0.0.1", "18081=0.0.0"]

if __name__ == "__main__":
    sys.exit(main(default_instances=DEMO))
