"""The demo's inputs on the ports its PEC simulator really opened.

``examples/sites/*.yaml`` name the simulator at ``127.0.0.1:18080`` (UBS Centro, 0.0.1) and
``127.0.0.1:18081`` (UBS Vila Nova, 0.0.0). ``make demo`` starts the simulator on free ports
(or on ``ESUS_DEMO_PORTA_CENTRO`` / ``ESUS_DEMO_PORTA_VILA`` when set), so two demos on one
host never meet, and this tool copies ``examples/`` to a folder of its own with those two
addresses replaced by the ports the simulator wrote in its ``--pronto`` file (one
``PORTA=VERSAO`` line per instance, in the order given). Prints the copy's inventory.

    python -m esus_runbook.demo.demo_inputs --pronto ARQUIVO --destino PASTA
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FIXED = ("127.0.0.1:18080", "127.0.0.1:18081")  # what examples/sites/*.yaml say


def ready_ports(ready_file: Path) -> list[int]:
    """The ports the simulator opened, from its ``--pronto`` file."""
    lines = ready_file.read_text(encoding="utf-8").split()[1:]
    return [int(line.partition("=")[0]) for line in lines]


def prepare(examples: Path, dest: Path, ports: list[int]) -> Path:
    """Copy ``examples`` to ``dest`` with the simulator's addresses on ``ports``."""
    if len(ports) < len(FIXED):
        raise ValueError(f"o simulador abriu {len(ports)} portas; a demonstração usa "
                         f"{len(FIXED)}")
    shutil.copytree(examples, dest, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for site in sorted((dest / "sites").glob("*.yaml")):
        text = site.read_text(encoding="utf-8")
        for fixed, port in zip(FIXED, ports, strict=False):
            text = text.replace(f"http://{fixed}", f"http://127.0.0.1:{port}")
        site.write_text(text, encoding="utf-8")
    return dest / "inventario.yaml"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="demo_inputs", description=__doc__.splitlines()[0])
    p.add_argument("--pronto", type=Path, required=True, metavar="ARQUIVO")
    p.add_argument("--destino", type=Path, required=True, metavar="PASTA")
    p.add_argument("--exemplos", type=Path, default=EXAMPLES, metavar="PASTA")
    args = p.parse_args(argv)
    try:
        print(prepare(args.exemplos, args.destino, ready_ports(args.pronto)))
    except (OSError, ValueError) as exc:
        print(f"demonstração: entradas não preparadas ({exc})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
