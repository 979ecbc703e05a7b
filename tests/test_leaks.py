"""Issue 6: no secret and no full CPF/CNS anywhere in a run folder.

Runs the demo batch with known secret values (``examples/demo.env`` and the demo's secret
file) and reads every byte of every file the run wrote — notebooks, JSON, HTML, CSV, logs —
looking for the secrets and for every CPF and CNS of the input XMLs.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from esus_runbook.secret_refs import SITE_SECRET_REFS, site_secret_values
from esus_runbook.sites.loading import load_sites

from .support.leaks import variants
from .support.project import EXAMPLES, demo_env

pytestmark = pytest.mark.notebooks
_ATTR = re.compile(rb'\b(CPF_PROF|CO_CNS)\s*=\s*"\s*(\d{11}|\d{15})\s*"')


def xml_bytes(path: Path) -> bytes:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return b"".join(zf.read(n) for n in zf.namelist() if n.lower().endswith(".xml"))
    return path.read_bytes()


def personal_ids(paths: list[Path]) -> set[bytes]:
    found: set[bytes] = set()
    for p in paths:
        found.update(m.group(2) for m in _ATTR.finditer(xml_bytes(p)))
    return found


def test_no_secret_or_personal_id_in_run_folder(demo_run: Path):
    sites = load_sites(EXAMPLES / "inventario.yaml")
    env = demo_env()
    secrets = set().union(*(site_secret_values(s, env=env) for s in sites))
    assert len(secrets) >= 2, "the demo must exercise an env-var and a file secret"
    xmls = [Path(p) for s in sites for p in (s.xml["arquivo"], s.xml["anterior"])
            if p and Path(p).exists()]
    ids = personal_ids(xmls)
    assert len(ids) >= 50, "the demo XMLs must hold CPFs and CNSs to look for"
    needles = {s.encode() for s in secrets} | {v for i in ids for v in variants(i)}
    catalog = sorted(demo_run.parent.glob("catalogo.sqlite*"))  # the run catalog (issue 18)
    assert catalog, "the batch records its run in the executions folder's catalog"
    files = [p for p in demo_run.rglob("*") if p.is_file()] + catalog
    assert {p.suffix for p in files} >= {".ipynb", ".json", ".html", ".csv", ".log", ".sqlite"}
    leaks = []
    for f in files:
        data = f.read_bytes()
        for needle in needles:
            if needle in data:
                kind = "segredo" if needle.decode() in secrets else "CPF/CNS"
                leaks.append(f"{f.relative_to(demo_run.parent)}: {kind} …{needle[-3:].decode()}")
                break
    assert leaks == []


def test_no_plain_hash_of_a_secret_or_secret_file_in_run_folder(demo_run: Path):
    """Issue 12: a secret file is fingerprinted only with the salted slow PBKDF2, never a
    sha256 of its content (which would confirm a guessed contra-chave)."""
    sites = load_sites(EXAMPLES / "inventario.yaml")
    env = demo_env()
    hashes: set[bytes] = set()
    secret_files = []
    for s in sites:
        hashes.update(hashlib.sha256(v.encode()).hexdigest().encode()
                      for v in site_secret_values(s, env=env))
        for section, _, file_key in SITE_SECRET_REFS:
            path = (s.data.get(section) or {}).get(file_key)
            if path and Path(path).is_file():
                secret_files.append(path)
                hashes.add(hashlib.sha256(Path(path).read_bytes()).hexdigest().encode())
    assert secret_files, "the demo must reference a secret file"
    leaks = [f.relative_to(demo_run) for f in demo_run.rglob("*") if f.is_file()
             and any(h in f.read_bytes() for h in hashes)]
    assert leaks == []
    fingerprints = [json.loads(p.read_text())["inputs"]["contra_chave.contra_chave_file"]
                    for p in demo_run.glob("*/contra_chave.json")]
    assert any(str(fp).startswith("pbkdf2-sha256$") for fp in fingerprints)


def test_secrets_are_not_papermill_parameters(demo_run: Path):
    import nbformat

    allowed = {"site_file", "site_id", "run_dir", "interactive"}
    for nb_path in demo_run.rglob("*.ipynb"):
        if nb_path.parent.name == "_notebooks":  # the run's copy of the source notebooks
            continue
        params = nbformat.read(nb_path, as_version=4).metadata.papermill.parameters
        assert set(params) <= allowed, (nb_path, params)


def test_database_passwords_never_leak(tmp_path, postgres, pec_db, demo_simulator, cli):
    """A batch that really uses database passwords (a right one and a wrong one) against the
    test PostgreSQL: neither password, nor the contra-chaves, appears in any file of the run."""
    import json
    import shutil

    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES, examples)
    db = pec_db(VERSAOBANCODADOS=("0.0.1", None), LINKINSTALACAO=("http://127.0.0.1:18080", None))
    wrong = "Errada-" + postgres.esus_password[::-1]
    for site, var in (("ubs-centro", "ESUS_TEST_DB_OK"), ("ubs-vila-nova", "ESUS_TEST_DB_BAD")):
        path = examples / "sites" / f"{site}.yaml"
        text = path.read_text(encoding="utf-8").replace(
            "instalacao:\n", f"instalacao:\n  db_url: {postgres.url(db=db)}\n"
                             f"  db_password_env: {var}\n", 1)
        path.write_text(text, encoding="utf-8")
    env = {**demo_env(), "ESUS_TEST_DB_OK": postgres.esus_password, "ESUS_TEST_DB_BAD": wrong}
    out = tmp_path / "out"
    proc = cli("lote", examples / "inventario.yaml", "--execucoes", out, "--paralelos", "2",
               "--sem-progresso", env=env)
    assert proc.returncode in (0, 1, 3), proc.stderr
    run = next(p for p in out.iterdir() if p.is_dir())
    checks = {site: {c["id"]: c["status"] for c in json.loads(
        (run / site / "instalacao.json").read_text())["checks"]}
        for site in ("ubs-centro", "ubs-vila-nova")}
    assert checks["ubs-centro"]["DB_CONEXAO"] == "ok"       # the password was really used
    assert checks["ubs-vila-nova"]["DB_CONEXAO"] == "falha"  # and a wrong one refused
    sites = load_sites(examples / "inventario.yaml")
    needles = {postgres.esus_password, wrong} | set().union(
        *(site_secret_values(s, env=env) for s in sites))
    assert len(needles) >= 4
    leaks = [f"{f.relative_to(out)}" for f in [*run.rglob("*"), *out.glob("catalogo.sqlite*")]
             if f.is_file() for n in needles if n.encode() in f.read_bytes()]
    assert leaks == []
    for stream in (proc.stdout, proc.stderr):
        assert not any(n in stream for n in needles)
