"""The run folder's layout (esus_runbook.run_folder): its names, which sub-folders are sites,
which folders are runs, run.json and the site snapshot, and that no other module names them."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from esus_runbook import notebook, run_folder
from esus_runbook.catalog import read_run
from esus_runbook.demo.rollout_history import SiteSpec, write_run_folder
from esus_runbook.files.atomic import json_text
from esus_runbook.report.rollup import build_rollup, site_statuses, write_rollup_with_statuses
from esus_runbook.results import StageResult
from esus_runbook.status import RunStatus

from .support.project import ROOT
from .support.site_texts import COMMENTED, write

T0 = datetime(2026, 9, 1, 8, 0, tzinfo=timezone(timedelta(hours=-3)))


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize("path, expected", [
    (lambda r, s: run_folder.run_file(r), "run.json"),
    (lambda r, s: run_folder.log_path(r), "run.log"),
    (lambda r, s: run_folder.lock_path(r), ".lock"),
    (lambda r, s: run_folder.interactive_lock_path(r), ".run.json.lock"),
    (lambda r, s: run_folder.notebooks_dir(r), "_notebooks"),
    (lambda r, s: run_folder.rollup_path(r, "csv"), "rollup.csv"),
    (lambda r, s: run_folder.rollup_path(r, "json"), "rollup.json"),
    (lambda r, s: run_folder.rollup_path(r, "html"), "rollup.html"),
    (lambda r, s: run_folder.site_dir(r, "ubs-a"), "ubs-a"),
    (lambda r, s: run_folder.site_file(s), "ubs-a/site.json"),
    (lambda r, s: run_folder.stage_result_path(s, "contra_chave"), "ubs-a/contra_chave.json"),
    (lambda r, s: run_folder.report_path(s), "ubs-a/relatorio.html"),
    (lambda r, s: run_folder.report_stamp_path(s), "ubs-a/.relatorio.inputs"),
    (lambda r, s: run_folder.chart_cache_path(s, "xml"), "ubs-a/.xml.graficos.json"),
])
def test_layout_names(tmp_path, path, expected):
    run = tmp_path / "20260901-080000-ab12"
    assert path(run, run / "ubs-a") == run / expected


def test_interactive_folder_and_rollup_formats(tmp_path):
    assert run_folder.interactive_dir(tmp_path) == tmp_path / "interativo"
    assert run_folder.rollup_paths(tmp_path) == {
        "csv": tmp_path / "rollup.csv", "json": tmp_path / "rollup.json",
        "html": tmp_path / "rollup.html"}
    with pytest.raises(ValueError):
        run_folder.rollup_path(tmp_path, "xlsx")


def test_a_saved_result_is_where_the_layout_says(tmp_path):
    r = StageResult("ubs-a", "ambiente")
    r.add("AMB_RAM", "RAM", "ok", 8, 8)
    assert r.finish().save(tmp_path) == run_folder.stage_result_path(tmp_path, "ambiente")


@pytest.mark.parametrize("name, partial", [
    (".cenario.json.k3j2h1.tmp", True),          # files.atomic killed before its rename
    (".02_ambiente.partial.ipynb", True),        # papermill killed mid-notebook
    ("cenario.json", False),
    ("02_ambiente.ipynb", False),
    ("notas.tmp", False),                        # not hidden: not ours, left alone
    (".relatorio.inputs", False),
])
def test_partial_files(name, partial):
    assert run_folder.is_partial(name) is partial


# ----------------------------------------------------------------------------- sites
SNAPSHOT = {"site_id": "{id}", "nome": "UBS {id}", "municipio_ibge": "2927408", "cnes": None}

# name in the run folder -> (how it is made, is it a site?)
SITE_CASES = {
    "ubs-a": ("a folder with its snapshot", True),
    "ubs-b": ("another one", True),
    ".oculto": ("a hidden folder with a snapshot", False),
    "_notebooks": ("the notebooks' folder with a snapshot", False),
    "sem-retrato": ("a folder with a result but no snapshot", False),
    "parcial": ("a snapshot still under its temporary name", False),
    "retrato-pasta": ("site.json is a folder", False),
    "arquivo": ("a file named like a site", False),
}


def _make(run: Path, name: str) -> None:
    target = run / name
    snapshot = json.loads(json.dumps(SNAPSHOT).replace("{id}", name.strip("._")))
    if name in ("ubs-a", "ubs-b", ".oculto", "_notebooks"):
        run_folder.write_site_snapshot(target, snapshot)
    elif name == "sem-retrato":
        r = StageResult(name, "cenario")
        r.add("CEN_X", "x", "ok", 1, 1)
        r.finish().save(target)
    elif name == "parcial":
        target.mkdir()
        (target / ".site.json.a1b2c3.tmp").write_text(json_text(snapshot), encoding="utf-8")
    elif name == "retrato-pasta":
        run_folder.site_file(target).mkdir(parents=True)
    elif name == "arquivo":
        target.write_text(json_text(snapshot), encoding="utf-8")


@pytest.fixture
def decoys(tmp_path) -> Path:
    run = tmp_path / "20260901-080000-ab12"
    run.mkdir()
    for name in SITE_CASES:
        _make(run, name)
    return run


@pytest.mark.parametrize("name", SITE_CASES)
def test_which_sub_folders_are_sites(decoys, name):
    why, is_site = SITE_CASES[name]
    assert run_folder.is_site_dir(decoys / name) is is_site, why


def test_site_dirs_and_their_readers_follow_the_one_rule(tmp_path):
    spec = [SiteSpec("ubs-a", "UBS A", stages={"cenario": [("CEN_OK", "ok", "ok")]}),
            SiteSpec("ubs-b", "UBS B", stages={"cenario": [("CEN_F", "x", "falha")]})]
    run = write_run_folder(tmp_path, "20260901-080000-ab12", T0, spec)
    for name in SITE_CASES:
        if name not in ("ubs-a", "ubs-b"):
            _make(run, name)
    sites = [run / "ubs-a", run / "ubs-b"]
    assert run_folder.site_dirs(run) == sites
    assert run_folder.site_ids(run) == ["ubs-a", "ubs-b"]
    # the roll-up and the catalog read the same sites (they once had rules of their own)
    assert sorted(build_rollup(run)["site_id"].unique()) == ["ubs-a", "ubs-b"]
    rec = read_run(run)
    assert [s["site_id"] for s in rec.sites] == ["ubs-a", "ubs-b"]
    assert not rec.skipped


# ----------------------------------------------------------------------------- runs
def test_which_folders_are_runs(tmp_path):
    base = tmp_path / "execucoes"
    for name in ("20260901-080000-0001", "20260902-080000-0002", "interativo"):
        run_folder.write_run_meta(base / name, {"schema": run_folder.RUN_SCHEMA})
    (base / "20260903-080000-0003").mkdir()                      # no run.json: not a run
    run_folder.run_file(base / "20260904-080000-0004").mkdir(parents=True)  # run.json a folder
    (base / "20260905-080000-0005").write_text("", encoding="utf-8")  # a file, not a folder
    (base / "catalogo.sqlite").write_bytes(b"")
    assert [p.name for p in run_folder.run_dirs(base)] == [
        "20260901-080000-0001", "20260902-080000-0002", "interativo"]
    assert run_folder.is_run_dir(base / "interativo")
    assert not run_folder.is_run_dir(base / "20260903-080000-0003")
    assert not run_folder.is_run_dir(base / "20260905-080000-0005")
    assert not run_folder.is_run_dir(base / "nao-existe")


def test_earlier_runs_latest_first(tmp_path):
    for name in ("20260901-080000-0001", "20260903-080000-0003", "20260902-080000-0002",
                 "20260904-080000-0004"):
        (tmp_path / name).mkdir()
    (tmp_path / "20260801-080000-0000").write_text("", encoding="utf-8")  # a file
    assert [p.name for p in run_folder.earlier_runs(tmp_path / "20260903-080000-0003")] == [
        "20260902-080000-0002", "20260901-080000-0001"]
    assert run_folder.earlier_runs(tmp_path / "nada" / "x") == []


@pytest.mark.parametrize("content, readable", [
    (None, False),                                           # missing
    ("{não é json", False),
    ('["uma", "lista"]', False),
    ('{"schema": "esus-runbook/run/2", "status": "concluido"}', False),
    ('{"schema": "esus-runbook/run/1", "status": "concluido"}', True),
])
def test_read_run_meta(tmp_path, content, readable):
    if content is not None:
        run_folder.run_file(tmp_path).write_text(content, encoding="utf-8")
    meta = run_folder.read_run_meta(tmp_path)
    assert (meta is not None) is readable
    if readable:
        assert run_folder.run_status(meta) is RunStatus.CONCLUIDO


def test_run_json_keeps_the_status_words(tmp_path):
    meta = {"schema": run_folder.RUN_SCHEMA, "status": RunStatus.EM_ANDAMENTO,
            "passes": [{"status": run_folder.finished_status(interrupted=True)}]}
    path = run_folder.write_run_meta(tmp_path, meta)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["status"] == "em_andamento" and data["passes"][0]["status"] == "interrompido"
    assert run_folder.run_status(data) is RunStatus.EM_ANDAMENTO
    assert run_folder.finished_status(interrupted=False) is RunStatus.CONCLUIDO
    assert run_folder.run_status({"status": "terminado"}) is None
    assert run_folder.run_status(None) is None


def test_site_snapshot_digest_is_of_the_bytes_written(tmp_path):
    data = {"site_id": "ubs-a", "nome": "UBS São João"}
    digest = run_folder.write_site_snapshot(tmp_path / "ubs-a", data)
    blob = run_folder.site_file(tmp_path / "ubs-a").read_bytes()
    assert digest == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert blob == json.dumps(data, ensure_ascii=False, indent=2).encode() + b"\n"
    assert run_folder.read_site_snapshot(tmp_path / "ubs-a") == data


# ----------------------------------------------------------------------------- roll-up
def test_rollup_statuses_are_those_of_its_csv(tmp_path):
    """The batch takes the sites' statuses from the roll-up it writes, no longer reading its
    CSV back: the same answer as before."""
    stages = {"cenario": [("CEN_OK", "ok", "ok")], "ambiente": [("AMB_W", "w", "alerta")]}
    spec = [SiteSpec("ubs-a", "UBS A", stages=stages),
            SiteSpec("ubs-b", "=HYPERLINK(1)", stages={s: [("X_F", "f", "falha")]
                                                        for s in ("cenario", "xml")}),
            SiteSpec("ubs-c", "UBS C", stages={
                s: [("X_OK", "ok", "ok")] for s in
                ("cenario", "ambiente", "download", "instalacao", "contra_chave", "xml")})]
    run = write_run_folder(tmp_path, "20260901-080000-ab12", T0, spec)
    paths, statuses = write_rollup_with_statuses(run)
    df = pd.read_csv(paths["csv"], dtype=str)
    assert statuses == site_statuses(df).to_dict()
    assert statuses == {"ubs-a": "pendente", "ubs-b": "falha", "ubs-c": "ok"}
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["site_status"] == statuses


def test_rollup_of_a_run_without_sites(tmp_path):
    paths, statuses = write_rollup_with_statuses(tmp_path)
    assert statuses == {} and all(p.is_file() for p in paths.values())


# ----------------------------------------------------------------------------- one owner
NAMES = re.compile(r'"run\.json"|relatorio\.html|site\.json|rollup\.(csv|html|json)'
                   r'|\{stage\}\.json')


def test_only_the_run_folder_module_names_its_files():
    package = ROOT / "esus_runbook"
    found = [f"{path.relative_to(ROOT)}:{n}"
             for path in sorted(package.rglob("*"))
             if path.suffix in (".py", ".j2") and path.name != "run_folder.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if NAMES.search(line)]
    assert not found, f"name the run folder's files through esus_runbook.run_folder: {found}"
    assert NAMES.search((package / "run_folder.py").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- writers
def test_interactive_work_and_a_report_write_the_layout(tmp_path):
    """JupyterLab work (notebook.run_stage interactively) and notebook 07's report write the
    same snapshot, results and run.json a batch does, where the layout says."""
    path = write(tmp_path / "ubs.yaml", COMMENTED)
    run = run_folder.interactive_dir(tmp_path / "execucoes")
    result = notebook.run_stage("cenario", path, None, run, interactive=True)
    (site,) = run_folder.site_dirs(run)
    assert run_folder.stage_result_path(site, "cenario").is_file()
    meta = run_folder.read_run_meta(run)
    assert meta["interactive"] is True
    assert run_folder.run_status(meta) is RunStatus.EM_ANDAMENTO
    assert meta["passes"][0]["status"] == "em_andamento"
    blob = run_folder.site_file(site).read_bytes()
    assert meta["site_snapshots"][site.name] == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert meta["sites"][site.name]["status"] == "pendente"  # five stages not run yet
    assert result.status.value in ("ok", "alerta", "pendente", "falha")
    report = notebook.render_report(run, path)
    assert report == run_folder.report_path(site) and report.is_file()
