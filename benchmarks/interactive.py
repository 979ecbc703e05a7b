"""Cost of the interactive layer (issue 8), next to the batch path it sits on.

Run: ``.venv/bin/python benchmarks/interactive.py [N_SITES]``

* stage, batch vs interactive: ``notebook.run_stage("cenario", ..., interactive=False)`` (the
  baseline every batch notebook pays) against the same call with ``interactive=True`` plus
  the guidance and status HTML that ``show()`` adds in JupyterLab;
* form save: validate + render the YAML of one site file (round-trip) against the baseline
  of the CLI's own validation of the same file (``load_site``);
* large inventories: opening the form for the last site of an inventory of N_SITES sites
  listed by path and N_SITES inline (where ruamel round-trips the whole inventory on save),
  against ``load_sites`` of the same inventory.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from esus_runbook import guide, notebook  # noqa: E402
from esus_runbook.form import SiteDocument  # noqa: E402
from esus_runbook.sites.loading import load_site, load_sites  # noqa: E402

SITE = """\
# site de medição
site_id: {sid}
nome: UBS {sid}   # nome
municipio_ibge: "2927408"
cnes: "2386224"
cenario:
  usuarios_simultaneos: 30  # pico
  internet_estavel: true
  energia_estavel: true
  equipe_ti: true
  backup_automatizado: false
  politica_seguranca: true
"""


def timeit(fn, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def row(name: str, base: float, new: float) -> None:
    print(f"{name:<48} {base * 1000:>10.1f} ms {new * 1000:>10.1f} ms {new / base:>7.2f}x")


def main(n_sites: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-interativo-"))
    try:
        measure(tmp, n_sites)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(tmp: Path, n_sites: int) -> None:
    site = tmp / "ubs-bench.yaml"
    site.write_text(SITE.format(sid="ubs-bench"), encoding="utf-8")
    run = tmp / "run"
    print(f"{'medida':<48} {'base':>13} {'interativo':>13} {'razão':>8}")

    def batch():
        notebook.run_stage("cenario", site, None, run, interactive=False)

    def interactive():
        r = notebook.run_stage("cenario", site, None, run, interactive=True)
        s = load_site(site)
        guide.guidance_html(guide.guidance(r, s))
        guide.status_html(run, s.site_id)

    batch()
    row("etapa cenário: lote vs interativo (+guia, situação)", timeit(batch, 20),
        timeit(interactive, 20))

    doc = SiteDocument(site)
    values = {**doc.raw_values(), "cenario.usuarios_simultaneos": 45}

    def form_check():
        text, _ = doc.render(values)
        assert not doc.check(text)

    row("salvar 1 site: load_site vs formulário (validar)", timeit(lambda: load_site(site), 20),
        timeit(form_check, 20))

    folder = tmp / "sites"
    folder.mkdir()
    for i in range(n_sites):
        (folder / f"ubs-{i:05d}.yaml").write_text(SITE.format(sid=f"ubs-{i:05d}"),
                                                  encoding="utf-8")
    by_path = tmp / "inventario-caminhos.yaml"
    by_path.write_text("sites:\n" + "".join(f"  - sites/ubs-{i:05d}.yaml\n"
                                            for i in range(n_sites)), encoding="utf-8")
    inline = tmp / "inventario-lista.yaml"
    body = "".join("  - " + SITE.format(sid=f"ubs-{i:05d}").split("\n", 1)[1]
                   .replace("\n", "\n    ").rstrip() + "\n" for i in range(n_sites))
    inline.write_text("# inventário grande\nsites:\n" + body, encoding="utf-8")
    last = f"ubs-{n_sites - 1:05d}"

    def open_save(inv):
        d = SiteDocument(inv, last)
        vals = {**d.raw_values(), "cenario.usuarios_simultaneos": 45}
        text, _ = d.render(vals)
        assert not d.check(text)

    row(f"{n_sites} sites por caminho: load_sites vs abrir+validar",
        timeit(lambda: load_sites(by_path), 3), timeit(lambda: open_save(by_path), 3))
    row(f"{n_sites} sites na lista: load_sites vs abrir+validar",
        timeit(lambda: load_sites(inline), 3), timeit(lambda: open_save(inline), 3))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
