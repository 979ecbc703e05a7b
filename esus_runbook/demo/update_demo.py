"""DEMONSTRATION of an update recorded in a site's dossier — with the SIMULATOR, not a PEC.

``make demo`` runs this after the batch: a simulated PEC for UBS Centro (version 0.0.1, with a
log file), a FICTITIOUS installer 0.0.2 registered in a demo team registry, the before half of
``esus-runbook atualizacao``, the "installer run" (the simulator restarts as 0.0.2 and logs the
migration), the after half, and the certificate check of its (absent) HTTPS link. Everything
is written under ``<execucoes>/demonstracao-atualizacao/`` and recorded like a real update::

    python -m esus_runbook.demo.update_demo --execucoes execucoes
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

from ..cli import main as cli_main
from ..installer.releases import COLUMNS
from ..sites.loading import load_site
from ..status import ExitCode
from .pec_simulator import PecConfig, SimServer, installer_bytes

FROM, TO = "0.0.1", "0.0.2"


def write_demo_site(folder: Path, base_site: Path, pec_url: str) -> tuple[Path, Path]:
    """A copy of the demo's UBS Centro site pointing at the update's simulator, the FICTITIOUS
    installer and a team registry that knows it; returns (inventory, log path)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = installer_bytes(16384, seed=b"demo-0.0.2")
    installer = folder / f"eSUS-AB-PEC-{TO}-Linux64.jar"
    installer.write_bytes(data)
    registry = folder / "registro-instaladores.csv"
    with registry.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerow({"versao": TO, "plataforma": "linux", "arquivo": installer.name,
                     "tamanho_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                     "origem": "demonstração", "observacao": "instalador FICTÍCIO da demonstração"})
    site = load_site(base_site)
    server = folder / "servidor"
    (server / "logs").mkdir(parents=True, exist_ok=True)
    log = server / "logs" / "pec.log"
    text = "\n".join([
        "# Cópia da UBS Centro da demonstração para a atualização (gerada por make demo).",
        f"site_id: {site.site_id}", f"nome: {site.nome}",
        f'municipio_ibge: "{site.data["municipio_ibge"]}"',
        "cenario:", "  backup_automatizado: true",
        "instalador:", f"  versao: {TO}", "  plataforma: linux", f"  arquivo: {installer}",
        "instalacao:", f"  pec_url: {pec_url}",
        "atualizacao:", f"  pasta_pec: {server}", f"  log_pec: {log}",
        f"  ssl_properties: {server / 'ssl.properties'}", ""])
    (folder / "ubs-centro.yaml").write_text(text, encoding="utf-8")
    inventory = folder / "inventario.yaml"
    inventory.write_text(f"registro_instaladores: {registry}\nsites:\n  - ubs-centro.yaml\n",
                         encoding="utf-8")
    return inventory, log


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="demo-atualizacao", description=__doc__.splitlines()[0])
    p.add_argument("--execucoes", default="execucoes", type=Path)
    p.add_argument("--site", default=Path(__file__).resolve().parents[2] / "examples" /
                   "sites" / "ubs-centro.yaml", type=Path)
    args = p.parse_args(argv)
    folder = (args.execucoes / "demonstracao-atualizacao").resolve()
    with SimServer(0, PecConfig(versao=FROM)) as sim:
        inventory, log = write_demo_site(folder, args.site, sim.url)
        sim.pec.log_path = log
        sim.log(f"Iniciando e-SUS APS PEC {FROM}")
        common = [str(inventory), "--site-id", "ubs-centro", "--para", TO, "--execucoes",
                  str(args.execucoes)]
        print(f"== Atualização de demonstração {FROM} → {TO} (SIMULADOR, não é o PEC) ==")
        cli_main(["atualizacao", *common, "--fase", "antes"])
        sim.upgrade(TO)  # what the installer does: restart, migrate, answer the new version
        print("== O instalador (fictício) rodou: o simulador reiniciou como " + TO + " ==")
        rc = cli_main(["atualizacao", *common, "--fase", "depois"])
    # a finding (1) or missing evidence (3) is what the demo shows; a refused input is not
    return 0 if rc in (ExitCode.OK, ExitCode.FINDINGS, ExitCode.UNDECIDED) else rc


if __name__ == "__main__":
    sys.exit(main())
