"""What a batch notebook pays before doing its stage's work: importing the package and
loading the run's site snapshot must not pull pandas, numpy, ruamel, lxml, requests or
psycopg (each notebook is a fresh kernel; the batch runs hundreds of them). matplotlib is
allowed only for stages that draw charts. Not a timing test: it checks which modules get
loaded."""

from __future__ import annotations

import json
import subprocess
import sys

from esus_runbook.sites.loading import load_site, load_sites

from .support.project import EXAMPLES

HEAVY = ("pandas", "numpy", "ruamel", "lxml", "requests", "psycopg")
CODE = """
import json, sys
from esus_runbook import notebook
site = notebook.load_site(sys.argv[1])
result = notebook.run_stage("cenario", sys.argv[1], None, sys.argv[2])
notebook.show(result)
html = notebook.render_report(sys.argv[2], sys.argv[1])
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[3].split(",")))
print(json.dumps({"heavy": heavy, "status": result.status.value}))
"""


def test_stage_and_report_notebooks_do_not_import_heavy_packages(tmp_path):
    site = load_sites(EXAMPLES / "inventario.yaml")[0]
    snapshot = tmp_path / site.site_id / "site.json"
    snapshot.parent.mkdir()
    snapshot.write_text(json.dumps(site.to_json()))
    out = subprocess.run([sys.executable, "-c", CODE, str(snapshot), str(tmp_path),
                          ",".join(HEAVY)], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["heavy"] == [], data
    assert (tmp_path / site.site_id / "relatorio.html").stat().st_size > 1000


def test_an_edited_snapshot_is_validated_again(tmp_path):
    site = load_sites(EXAMPLES / "inventario.yaml")[0]
    snap = site.to_json()
    path = tmp_path / "site.json"
    path.write_text(json.dumps(snap))
    assert load_site(path).data == site.data
    snap["municipio_ibge"] = "2927409"  # wrong check digit, digest left as it was
    path.write_text(json.dumps(snap))
    try:
        load_site(path)
    except Exception as exc:
        assert "dígito verificador" in str(exc)
    else:
        raise AssertionError("an edited snapshot must be validated again")


def test_report_reuses_the_charts_the_stage_notebook_drew(tmp_path):
    """Interactive use (JupyterLab): the stage notebook draws its charts and caches them."""
    site = load_sites(EXAMPLES / "inventario.yaml")[0]  # ubs-centro: a probe with charts
    snapshot = tmp_path / site.site_id / "site.json"
    snapshot.parent.mkdir()
    snapshot.write_text(json.dumps(site.to_json()))
    stage_code = ("import sys; from esus_runbook import notebook; notebook.show("
                  "notebook.run_stage('ambiente', sys.argv[1], None, sys.argv[2], True))")
    subprocess.run([sys.executable, "-c", stage_code, str(snapshot), str(tmp_path)],
                   check=True, capture_output=True)
    cache = tmp_path / site.site_id / ".ambiente.graficos.json"
    charts = json.loads(cache.read_text())["charts"]
    assert charts and all(svg.startswith("<svg") for _, svg in charts)
    report_code = ("import sys, json; from esus_runbook import notebook; "
                   "notebook.render_report(sys.argv[2], sys.argv[1]); "
                   "print(json.dumps('matplotlib' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", report_code, str(snapshot), str(tmp_path)],
                         check=True, capture_output=True, text=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False
    html = (tmp_path / site.site_id / "relatorio.html").read_text()
    assert charts[0][1][:200] in html
    # a cache that does not match the result is ignored (and redrawn)
    data = json.loads(cache.read_text())
    data["digest"] = "sha256:outro"
    cache.write_text(json.dumps(data))
    out = subprocess.run([sys.executable, "-c", report_code, str(snapshot), str(tmp_path)],
                         check=True, capture_output=True, text=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) is True


def test_batch_draws_each_chart_once_outside_the_kernels(demo_run):
    """In a batch the stage notebooks do not draw (no matplotlib in the notebook): the site
    kernel draws once into the cache after the notebook, and the report embeds it."""
    import nbformat

    site = demo_run / "ubs-centro"
    cache = json.loads((site / ".ambiente.graficos.json").read_text())
    assert cache["charts"]
    assert cache["charts"][0][1][:200] in (site / "relatorio.html").read_text()
    executed = nbformat.read(site / "02_ambiente.ipynb", as_version=4)
    texts = [str(o.get("data", {})) for c in executed.cells if c.cell_type == "code"
             for o in c.outputs]
    assert any("relatorio.html" in t for t in texts)
    assert not any("image/svg+xml" in t for t in texts)
