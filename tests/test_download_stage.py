"""Stage 3 (download): local file or URL, checked against the site and the team registry;
the demo's outcomes; several sites of a batch recording the same release at once."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from esus_runbook import stages
from esus_runbook.demo.pec_simulator import FileConfig, installer_bytes
from esus_runbook.installer.releases import read_registry_file
from esus_runbook.sites.loading import load_sites
from esus_runbook.stages import StageContext
from esus_runbook.status import Status

from .support.project import EXAMPLES, run_cli

NAME = "eSUS-AB-PEC-0.0.9-Linux64.jar"
DEMO_SHA = "0a655c84c611fb7c1ae6d07e2fa834f814ee99724f5e499f916a6e28d3a8d482"


def body(n: int = 200_000) -> bytes:
    return installer_bytes(n, b"x")


def known_size(tmp_path: Path, n: int) -> None:
    """The team registry knows the release's size (as copied from the portal), not its hash:
    the first verified file may then be recorded without a confirmation."""
    (tmp_path / "registro.csv").write_text(
        f"versao,plataforma,arquivo,tamanho_bytes\n0.0.9,linux,{NAME},{n}\n", encoding="utf-8")


def inventory(tmp_path: Path, sites: list[dict], registry: str | None = "registro.csv"
              ) -> list:
    doc: dict = {"sites": [{"nome": s["site_id"], "municipio_ibge": "2927408", **s}
                           for s in sites]}
    if registry:
        doc["registro_instaladores"] = registry
    path = tmp_path / "inventario.yaml"
    with path.open("w", encoding="utf-8") as fh:
        YAML().dump(doc, fh)
    return load_sites(path)


def run(site, tmp_path: Path, env: dict | None = None):
    ctx = StageContext(tmp_path / "run" / site.site_id, env=env or {})
    return stages.evaluate("download", site, ctx)


def ids(result) -> dict[str, str]:
    return {c.id: c.status.value for c in result.checks}


def test_demo_sites():
    sites = {s.site_id: s for s in load_sites(EXAMPLES / "inventario.yaml")}
    ok = stages.evaluate("download", sites["ubs-centro"])
    assert ok.status is Status.OK
    assert ids(ok) == {k: "ok" for k in ("DL_NOME", "DL_VERSAO", "DL_PLATAFORMA", "DL_FORMATO",
                                         "DL_TAMANHO", "DL_SHA256", "DL_REGISTRO")}
    assert ok.metrics["sha256"] == DEMO_SHA and ok.metrics["origem"] == "arquivo"
    bad = stages.evaluate("download", sites["ubs-vila-nova"])
    assert bad.status is Status.FALHA
    assert ids(bad)["DL_TAMANHO"] == "falha" and ids(bad)["DL_REGISTRO"] == "falha"
    pending = stages.evaluate("download", sites["sms-centralizado"])
    assert pending.status is Status.PENDENTE and "esus-runbook baixar" in \
        pending.checks[0].remedy
    # the demo registry is only read: nothing was written next to it
    assert not list((EXAMPLES / "installers").glob(".*lock"))


def test_no_file_no_url_is_pending_with_command(tmp_path):
    (site,) = inventory(tmp_path, [{"site_id": "a", "instalador": {"versao": "5.5.24"}}])
    r = run(site, tmp_path)
    assert r.status is Status.PENDENTE and ids(r) == {"DL_ARQUIVO": "pendente"}
    assert "--versao-pec 5.5.24" in r.metrics["comando"]
    assert f"--registro {tmp_path / 'registro.csv'}" in r.metrics["comando"]


def test_missing_local_file_is_falha_with_the_download_command(tmp_path):
    (site,) = inventory(tmp_path, [{"site_id": "a", "instalador": {
        "versao": "0.0.9", "arquivo": f"inst/{NAME}"}}])
    r = run(site, tmp_path)
    assert ids(r) == {"DL_ARQUIVO": "falha"} and r.checks[0].observed == "não encontrado"
    assert "instalador.arquivo" in r.checks[0].remedy
    assert f"--pasta {tmp_path / 'inst'}" in r.checks[0].remedy


def test_local_file_first_use_then_ok(tmp_path):
    (tmp_path / NAME).write_bytes(body())
    spec = [{"site_id": "a", "instalador": {"versao": "0.0.9", "arquivo": NAME}}]
    (site,) = inventory(tmp_path, spec)
    # no registry knows the size: verified, but nobody vouches for it -> pendente, no record
    waiting = run(site, tmp_path)
    assert waiting.status is Status.PENDENTE and ids(waiting)["DL_REGISTRO"] == "pendente"
    assert "--confiar-primeiro-uso" in waiting.checks[-1].remedy
    assert not (tmp_path / "registro.csv").exists()
    known_size(tmp_path, len(body()))
    first = run(site, tmp_path)
    assert first.status is Status.ALERTA and ids(first)["DL_REGISTRO"] == "alerta"
    assert first.metrics["registro_acao"] == "registrado"
    row = read_registry_file(tmp_path / "registro.csv")[("0.0.9", "linux")]
    assert row.sha256 == hashlib.sha256(body()).hexdigest()
    second = run(site, tmp_path)
    assert second.status is Status.OK and second.metrics["registro_acao"] is None


def test_site_sha256_and_platform_mismatch(tmp_path):
    (tmp_path / NAME).write_bytes(body())
    (site,) = inventory(tmp_path, [{"site_id": "a", "instalador": {
        "versao": "0.0.9", "plataforma": "windows", "arquivo": NAME, "sha256": "e" * 64}}])
    r = run(site, tmp_path)
    assert ids(r)["DL_SHA256"] == "falha" and ids(r)["DL_PLATAFORMA"] == "falha"
    assert not (tmp_path / "registro.csv").exists()  # a failed file is never recorded


def test_broken_registry_is_falha_not_a_crash(tmp_path):
    (tmp_path / NAME).write_bytes(body())
    (tmp_path / "registro.csv").write_text("versao,plataforma,tamanho_bytes\n0.0.9,linux,x\n")
    (site,) = inventory(tmp_path, [{"site_id": "a", "instalador": {
        "versao": "0.0.9", "arquivo": NAME}}])
    r = run(site, tmp_path)
    assert ids(r) == {"DL_REGISTRO": "falha"} and "linha 2" in r.checks[0].observed


def test_url_downloads_into_shared_folder_once(http_server, tmp_path):
    data = body(1_500_000)
    srv = http_server(files={f"/r/{NAME}": FileConfig(data=data, drop_after=400_000, drops=1)})
    url = f"{srv.url}/r/{NAME}"
    sites = inventory(tmp_path, [
        {"site_id": s, "instalador": {"versao": "0.0.9", "url": url}} for s in ("a", "b")])
    env = {"ESUS_RUNBOOK_INSTALADORES": str(tmp_path / "cache")}
    known_size(tmp_path, len(data))
    first = run(sites[0], tmp_path, env)
    assert first.status is Status.ALERTA  # first use of this release
    assert ids(first)["DL_DOWNLOAD"] == "ok" and first.metrics["origem"] == "url"
    assert (tmp_path / "cache" / NAME).read_bytes() == data
    assert first.metrics["tentativas"] == 2 and first.metrics["sha256"] == \
        hashlib.sha256(data).hexdigest()
    assert not list((tmp_path / "run").rglob("*.jar"))  # never in the run folder
    n = len(srv.requests)
    second = run(sites[1], tmp_path, env)
    assert second.status is Status.OK and second.metrics["reaproveitado"] is True
    assert len(srv.requests) == n


def test_url_errors_are_falha_not_a_crash(http_server, tmp_path):
    srv = http_server(files={f"/r/{NAME}": FileConfig(data=body(), status=403)})
    (site,) = inventory(tmp_path, [{"site_id": "a", "instalador": {
        "versao": "0.0.9", "url": f"{srv.url}/r/{NAME}"}}])
    r = run(site, tmp_path, {"ESUS_RUNBOOK_INSTALADORES": str(tmp_path / "c")})
    assert ids(r) == {"DL_DOWNLOAD": "falha"} and "HTTP 403" in r.checks[0].observed


def test_url_corrupted_download_is_quarantined(http_server, tmp_path):
    srv = http_server(files={f"/r/{NAME}": FileConfig(data=body())})
    (site,) = inventory(tmp_path, [{"site_id": "a", "instalador": {
        "versao": "0.0.9", "url": f"{srv.url}/r/{NAME}", "sha256": "1" * 64}}])
    r = run(site, tmp_path, {"ESUS_RUNBOOK_INSTALADORES": str(tmp_path / "c")})
    assert r.status is Status.FALHA and ids(r)["DL_QUARENTENA"] == "falha"
    assert not (tmp_path / "c" / NAME).exists()
    assert Path(r.metrics["quarentena"]).exists()


def _evaluate_in_process(args: tuple[str, str]) -> tuple[str, str | None]:
    inventory_path, site_id = args
    site = next(s for s in load_sites(inventory_path) if s.site_id == site_id)
    r = stages.evaluate("download", site)
    return r.status.value, r.metrics.get("registro_acao")


def test_parallel_sites_record_one_release_once(tmp_path):
    """A batch's sites run in parallel processes: the first verified hash wins, the others
    find it recorded; the registry keeps one row and stays valid CSV."""
    (tmp_path / NAME).write_bytes(body())
    known_size(tmp_path, len(body()))
    inventory(tmp_path, [{"site_id": f"s{i}", "instalador": {"versao": "0.0.9",
                                                             "arquivo": NAME}}
                         for i in range(6)])
    with ProcessPoolExecutor(3) as ex:
        out = list(ex.map(_evaluate_in_process,
                          [(str(tmp_path / "inventario.yaml"), f"s{i}") for i in range(6)]))
    actions = [a for _, a in out]
    assert actions.count("registrado") == 1
    assert actions.count(None) + actions.count("ja_registrado") == 5
    assert {s for s, _ in out} <= {"ok", "alerta"}
    assert len(read_registry_file(tmp_path / "registro.csv")) == 1
    assert read_registry_file(tmp_path / "registro.csv")[("0.0.9", "linux")].sha256


@pytest.mark.notebooks
def test_demo_run_download_results(demo_run):
    status = {sid: json.loads((demo_run / sid / "download.json").read_text())["status"]
              for sid in ("ubs-centro", "ubs-vila-nova", "sms-centralizado")}
    assert status == {"ubs-centro": "ok", "ubs-vila-nova": "falha",
                      "sms-centralizado": "pendente"}


def test_url_first_use_is_pending_until_confirmed_with_the_cli(http_server, tmp_path):
    """No registry knows the size: the stage downloads and verifies, keeps the file as a
    complete .part, records nothing and is pendente; the CLI with --confiar-primeiro-uso
    confirms it (without downloading again) and the next stage run is ok."""
    data = body(600_000)
    srv = http_server(files={f"/r/{NAME}": FileConfig(data=data)})
    url = f"{srv.url}/r/{NAME}"
    (site,) = inventory(tmp_path, [{"site_id": "a", "instalador": {"versao": "0.0.9",
                                                                   "url": url}}])
    cache = tmp_path / "cache"
    env = {"ESUS_RUNBOOK_INSTALADORES": str(cache)}
    r = run(site, tmp_path, env)
    assert r.status is Status.PENDENTE
    assert ids(r)["DL_DOWNLOAD"] == "pendente" and ids(r)["DL_REGISTRO"] == "pendente"
    assert ids(r)["DL_FORMATO"] == "ok"
    remedy = r.checks[0].remedy
    assert "--confiar-primeiro-uso" in remedy and hashlib.sha256(data).hexdigest() in remedy
    assert not (cache / NAME).exists() and (cache / f"{NAME}.part").read_bytes() == data
    assert not (tmp_path / "registro.csv").exists()
    n = len(srv.requests)
    proc = run_cli("baixar", "--url", url, "--versao-pec", "0.0.9", "--pasta", cache,
                   "--registro", tmp_path / "registro.csv", "--sem-progresso",
                   "--confiar-primeiro-uso")
    assert proc.returncode == 0, proc.stderr
    assert len(srv.requests) == n
    again = run(site, tmp_path, env)
    assert again.status is Status.OK and again.metrics["reaproveitado"] is True


def test_invalid_size_ceiling_is_falha_naming_the_variable(tmp_path):
    (tmp_path / NAME).write_bytes(body())
    (site,) = inventory(tmp_path, [{"site_id": "a", "instalador": {
        "versao": "0.0.9", "arquivo": NAME}}])
    r = run(site, tmp_path, {"ESUS_RUNBOOK_INSTALADOR_MAX_MB": "-1"})
    assert ids(r) == {"DL_TAMANHO": "falha"}
    assert r.checks[0].observed == "ESUS_RUNBOOK_INSTALADOR_MAX_MB: valor '-1' inválido"
    small = run(site, tmp_path, {"ESUS_RUNBOOK_INSTALADOR_MAX_MB": "0"})
    assert ids(small) == {"DL_TAMANHO": "falha"}
