"""Issue 6: no secret and no full CPF/CNS anywhere in a run folder.

Runs the demo batch with known secret values (``examples/demo.env`` and the demo's secret
file) and reads every byte of every file the run wrote — notebooks, JSON, HTML, CSV, logs —
looking for the secrets and for every CPF and CNS of the input XMLs.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from esus_runbook.secrets import site_secret_values
from esus_runbook.sites import load_sites

from .conftest import EXAMPLES, demo_env

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


def variants(value: bytes) -> set[bytes]:
    """The plain value and how it is usually formatted."""
    v = value.decode()
    out = {v}
    if len(v) == 11:
        out.add(f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}")
    if len(v) == 15:
        out.add(f"{v[:3]} {v[3:7]} {v[7:11]} {v[11:]}")
    return {x.encode() for x in out}


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
    files = [p for p in demo_run.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".ipynb", ".json", ".html", ".csv", ".log"}
    leaks = []
    for f in files:
        data = f.read_bytes()
        for needle in needles:
            if needle in data:
                kind = "segredo" if needle.decode() in secrets else "CPF/CNS"
                leaks.append(f"{f.relative_to(demo_run)}: {kind} …{needle[-3:].decode()}")
                break
    assert leaks == []


def test_secrets_are_not_papermill_parameters(demo_run: Path):
    import nbformat

    allowed = {"site_file", "site_id", "run_dir", "interactive"}
    for nb_path in demo_run.rglob("*.ipynb"):
        if nb_path.parent.name == "_notebooks":  # the run's copy of the source notebooks
            continue
        params = nbformat.read(nb_path, as_version=4).metadata.papermill.parameters
        assert set(params) <= allowed, (nb_path, params)
