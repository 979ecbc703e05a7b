"""Stage ambiente: recorded probe files against the official profiles, each check passing and
failing, the profile from the cenário result, pending/failed inputs, charts from metrics."""

from __future__ import annotations

import copy
import json

import pytest

from esus_runbook.results import StageResult
from esus_runbook.sites.loading import load_site
from esus_runbook.stages import StageContext, ambiente, evaluate
from esus_runbook.status import Status

from .support.ambiente_site import PROBES, make_site
from .support.project import EXAMPLES

OK, ALERTA, PENDENTE, FALHA = Status.OK, Status.ALERTA, Status.PENDENTE, Status.FALHA
GIB = 1024 ** 3


def run(site, **ctx) -> StageResult:
    return evaluate("ambiente", site, StageContext(**ctx))


def checks(result: StageResult) -> dict:
    return {c.id: c for c in result.checks}


def base() -> dict:
    return json.loads((PROBES / "linux-ok.json").read_text())


def test_a_good_server_passes_every_check(tmp_path):
    r = run(make_site(tmp_path))
    assert r.status is OK, [(c.id, c.status, c.remedy) for c in r.checks if c.status != OK]
    expected = {"AMB_SONDAGEM", "AMB_RAM", "AMB_CPU_NUCLEOS", "AMB_CPU_FREQUENCIA",
                "AMB_PASSMARK", "AMB_DISCO_LIVRE", "AMB_DISCO_VELOCIDADE", "AMB_64BITS",
                "AMB_SO", "AMB_LOCALE", "AMB_LOCALE_SISTEMA", "AMB_FUSO", "AMB_PORTAS", "AMB_REMOVEIPC", "AMB_JAVA",
                "AMB_POSTGRES", "AMB_JVM"}
    assert set(checks(r)) == expected
    for c in r.checks:
        assert c.expected and c.observed is not None
    assert r.metrics["perfil"]["profile_id"] == "ate_40"
    assert r.metrics["alvo"].startswith("servidor único")
    assert r.metrics["jvm"]["flags"][1] == "-Xmx4096M"
    assert {row["id"] for row in r.metrics["comparativo"]} >= {"AMB_RAM", "AMB_DISCO_LIVRE"}


@pytest.mark.parametrize("name,failing", [
    ("linux-6gb", {"AMB_RAM"}),
    ("linux-32bits", {"AMB_64BITS", "AMB_JAVA"}),
    ("linux-sem-ptbr", {"AMB_LOCALE"}),
    ("linux-8080-ocupada", {"AMB_PORTAS"}),
    ("linux-removeipc-yes", {"AMB_REMOVEIPC"}),
])
def test_recorded_failures_for_a_40_user_site(tmp_path, name, failing):
    r = run(make_site(tmp_path, name, users=40))
    got = {c.id for c in r.checks if c.status is FALHA}
    assert got == failing, [(c.id, c.status.value, c.observed) for c in r.checks]
    assert r.status is FALHA
    for c in r.checks:
        if c.status is not OK:
            assert c.remedy and len(c.remedy) > 30


def test_6gb_ram_details_and_a_reduced_jvm(tmp_path):
    r = run(make_site(tmp_path, "linux-6gb", users=40))
    c = checks(r)["AMB_RAM"]
    assert c.observed == "5,8 GiB" and "8 GB" in c.expected and "Killed" in c.remedy
    assert checks(r)["AMB_JVM"].status is ALERTA
    plan = r.metrics["jvm"]
    assert plan["situacao"] == "reduzido" and "-Xmx2048M" in plan["flags"]


def test_port_owner_is_shown_and_an_upgrade_only_warns(tmp_path):
    c = checks(run(make_site(tmp_path, "linux-8080-ocupada")))["AMB_PORTAS"]
    assert "tomcat9 (pid 902)" in c.observed and "sport = :8080" in c.remedy
    r = run(make_site(tmp_path, "linux-8080-ocupada", instalacao={"atualizacao": True}))
    assert checks(r)["AMB_PORTAS"].status is ALERTA


def test_windows_server_on_a_two_server_profile(tmp_path):
    site = make_site(tmp_path, "windows-server-2019", users=180, passmark=11000,
                     instalador={"plataforma": "windows"})
    r = run(site)
    c = checks(r)
    assert r.metrics["perfil"]["profile_id"] == "ate_1000"
    assert r.metrics["alvo"] == "servidor de aplicação"
    assert "servidor de aplicação" in c["AMB_RAM"].title
    assert not {"AMB_LOCALE", "AMB_REMOVEIPC"} & set(c)
    assert set(r.metrics["nao_aplicavel"]) == {"AMB_LOCALE", "AMB_REMOVEIPC"}
    assert c["AMB_JAVA"].status is FALHA  # the Win64 .jar needs a 64-bit Java; none found
    pg = c["AMB_POSTGRES"]
    assert pg.status is ALERTA and "servidor de aplicação" in pg.observed
    assert "16 GB de RAM" in pg.expected  # the DB server's figures, not checked here
    assert c["AMB_PORTAS"].expected.startswith("8080")  # 5433 belongs to the DB server
    assert "5433" not in c["AMB_PORTAS"].expected
    assert c["AMB_FUSO"].status is OK and c["AMB_SO"].status is OK
    assert c["AMB_DISCO_VELOCIDADE"].status is ALERTA and "cache" in c["AMB_DISCO_VELOCIDADE"].observed
    assert c["AMB_CPU_FREQUENCIA"].status is OK  # 2,095 GHz: within 5% of 2,2 GHz
    assert c["AMB_JVM"].status is OK and "-Xmx10240M" in r.metrics["jvm"]["flags"]
    assert r.metrics["jvm"]["onde"]["sistema"] == "windows"
    assert r.status is FALHA


def test_windows_server_with_the_linux_installer_fails(tmp_path):
    r = run(make_site(tmp_path, "windows-server-2019", users=30))
    c = checks(r)["AMB_SO"]
    assert c.status is FALHA and "instalador.plataforma" in c.remedy


def test_minimal_core_probe_is_judged_with_what_it_has(tmp_path):
    r = run(make_site(tmp_path, "minima-v1"))
    c = checks(r)
    assert c["AMB_SONDAGEM"].status is OK
    assert c["AMB_RAM"].status is OK and c["AMB_JAVA"].status is OK
    assert c["AMB_DISCO_VELOCIDADE"].status is ALERTA  # not measured
    assert c["AMB_PORTAS"].status is FALHA  # 8080 in_use in that file
    assert c["AMB_REMOVEIPC"].status is OK


def mutate(path: str, value):
    def apply(d):
        node = d
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return apply


# (check, mutation of the good probe, site overrides, expected status)
CASES = [
    ("AMB_RAM", mutate("memory.total_bytes", 8_190_000_000), {}, OK),  # an 8 GiB VM's MemTotal
    ("AMB_RAM", mutate("memory.total_bytes", 6 * GIB), {}, FALHA),
    ("AMB_RAM", mutate("memory.cgroup_limit_bytes", 4 * GIB), {}, FALHA),
    ("AMB_RAM", mutate("memory.total_bytes", None), {}, PENDENTE),
    ("AMB_CPU_NUCLEOS", mutate("cpu", {"physical_cores": 2, "logical_cores": 4}), {}, ALERTA),
    ("AMB_CPU_NUCLEOS", mutate("cpu", {"physical_cores": 2, "logical_cores": 2}), {}, FALHA),
    ("AMB_CPU_NUCLEOS", mutate("cpu", {"physical_cores": 8, "logical_cores": 16,
                                       "usable_cores": 2}), {}, FALHA),
    ("AMB_CPU_NUCLEOS", mutate("cpu", {"physical_cores": None, "logical_cores": 4}), {}, OK),
    ("AMB_CPU_NUCLEOS", mutate("cpu", {}), {}, PENDENTE),
    ("AMB_CPU_FREQUENCIA", mutate("cpu.max_mhz", 1800.0), {}, ALERTA),
    ("AMB_CPU_FREQUENCIA", mutate("cpu", {"physical_cores": 4, "logical_cores": 4}), {}, ALERTA),
    ("AMB_PASSMARK", None, {"passmark": 1500}, FALHA),
    ("AMB_PASSMARK", None, {"passmark": None}, ALERTA),
    ("AMB_DISCO_LIVRE", mutate("install_path.free_bytes", 20 * GIB), {}, FALHA),
    ("AMB_DISCO_LIVRE", mutate("install_path.free_bytes", None), {}, PENDENTE),
    ("AMB_DISCO_VELOCIDADE", mutate("disk_speed.write_mb_s", 40.0), {}, FALHA),
    ("AMB_DISCO_VELOCIDADE", mutate("disk_speed.read_mb_s", 100.0), {}, FALHA),
    ("AMB_DISCO_VELOCIDADE", mutate("disk_speed.same_disk_as_install", False), {}, ALERTA),
    ("AMB_64BITS", mutate("os.bits", 32), {}, FALHA),
    ("AMB_64BITS", mutate("os.bits", None), {}, PENDENTE),
    ("AMB_SO", mutate("os", {"system": "Linux", "distro": "Arch Linux", "distro_id": "arch",
                             "bits": 64}), {}, FALHA),
    ("AMB_SO", mutate("os.distro_id", "rocky"), {}, ALERTA),
    ("AMB_SO", mutate("os.distro_id", "linuxmint"), {}, ALERTA),  # ID_LIKE=debian
    ("AMB_LOCALE", mutate("locale.pt_BR_utf8", False), {}, FALHA),
    ("AMB_LOCALE", mutate("locale", None), {}, ALERTA),
    ("AMB_FUSO", mutate("timezone", "Etc/UTC"), {}, ALERTA),
    ("AMB_FUSO", mutate("timezone", "America/Manaus"), {}, ALERTA),  # BA site, UTC-4
    ("AMB_FUSO", mutate("timezone", "America/Sao_Paulo"), {}, OK),  # same offset as Bahia
    ("AMB_FUSO", lambda d: (d.update(timezone=None),
                            d["timezone_info"].update(configured=False)), {}, FALHA),
    ("AMB_FUSO", mutate("timezone", None), {}, ALERTA),
    ("AMB_PORTAS", mutate("ports.5433", "in_use"), {}, FALHA),
    ("AMB_PORTAS", mutate("ports.8080", "unknown"), {}, ALERTA),
    ("AMB_PORTAS", mutate("ports.443", "in_use"), {}, OK),  # no HTTPS wanted
    ("AMB_PORTAS", mutate("ports.443", "in_use"),
     {"instalacao": {"https_dominio": "pec.exemplo.gov.br"}}, FALHA),
    ("AMB_PORTAS", None, {"instalacao": {"https_dominio": "pec.exemplo.gov.br"}}, OK),
    ("AMB_PORTAS", None, {"instalacao": {"https_dominio": "pec.exemplo.gov.br",
                                         "https_porta": 8443}}, ALERTA),  # not probed
    ("AMB_REMOVEIPC", mutate("systemd.remove_ipc", "yes"), {}, FALHA),
    ("AMB_REMOVEIPC", mutate("systemd", None), {}, ALERTA),
    # the system default locale, the PEC service's (not the probing shell's LANG)
    ("AMB_LOCALE_SISTEMA", None, {}, OK),
    ("AMB_LOCALE_SISTEMA", mutate("locale.system_lang", "C.UTF-8"), {}, ALERTA),
    ("AMB_LOCALE_SISTEMA", mutate("locale.system_lang", None), {}, ALERTA),
    ("AMB_LOCALE_SISTEMA", mutate("locale.system_ctype", "pt_BR.utf8"),
     {}, OK),
    ("AMB_LOCALE_SISTEMA", lambda d: d["locale"].update(system_lang="en_US.UTF-8",
                                                        system_ctype="pt_BR.UTF-8"), {}, OK),
    ("AMB_LOCALE_SISTEMA", lambda d: d["locale"].update(pt_BR_utf8=False, found=[]), {}, ALERTA),
    ("AMB_LOCALE_SISTEMA", lambda d: [d["locale"].pop(k) for k in
                                      ("system_lang", "system_ctype", "system_source")], {},
     ALERTA),
    ("AMB_JAVA", mutate("java", {"found": False}), {}, FALHA),
    ("AMB_JAVA", mutate("java.bits", 32), {}, FALHA),
    # the manual asks for Java 8 64-bit (docs/dominio.md): 8 and newer pass, 7 does not
    ("AMB_JAVA", mutate("java.version", "11.0.24"), {}, OK),
    ("AMB_JAVA", mutate("java.version", "1.8.0_392"), {}, OK),
    ("AMB_JAVA", mutate("java.version", "1.7.0_80"), {}, ALERTA),
    ("AMB_POSTGRES", mutate("postgres", {"found": True, "version": "9.5.25"}), {}, FALHA),
    ("AMB_POSTGRES", mutate("postgres", {"found": True, "version": "12.20"}), {}, OK),
    ("AMB_POSTGRES", mutate("postgres", {"found": True, "version": "16.4"}), {}, ALERTA),
    ("AMB_POSTGRES", mutate("postgres", None), {}, ALERTA),
    ("AMB_JVM", mutate("memory.total_bytes", 3 * GIB), {}, FALHA),
]


@pytest.mark.parametrize("cid,change,site_over,status", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_check_passes_and_fails(tmp_path, cid, change, site_over, status):
    probe = base()
    if change is not None:
        change(probe)
    site = make_site(tmp_path, probe, **site_over)
    c = checks(run(site))[cid]
    assert c.status is status, (c.expected, c.observed, c.remedy)
    if status is not OK:
        assert c.remedy


def test_remedies_name_the_fix(tmp_path):
    p = base()
    p["systemd"]["remove_ipc"] = "yes"
    p["locale"]["pt_BR_utf8"] = False
    p["os"].update(distro_id="rhel", distro="Red Hat Enterprise Linux 9.4")
    c = checks(run(make_site(tmp_path, p)))
    assert "RemoveIPC=no" in c["AMB_REMOVEIPC"].remedy
    assert "Falha ao migrar o Banco de Dados" in c["AMB_REMOVEIPC"].remedy
    assert "glibc-langpack-pt" in c["AMB_LOCALE"].remedy  # RHEL family
    p["postgres"] = {"found": True, "version": "16.4"}
    c = checks(run(make_site(tmp_path, p)))
    assert "md5" in c["AMB_POSTGRES"].remedy and "authentication type 10" in c["AMB_POSTGRES"].remedy
    c = checks(run(make_site(tmp_path, p, passmark=None)))
    assert "cpubenchmark.net" in c["AMB_PASSMARK"].remedy
    assert "E-2224G" in c["AMB_PASSMARK"].remedy  # the CPU model to look up


# --------------------------------------------------------------------------- inputs
def test_profile_comes_from_the_cenario_result(tmp_path):
    from esus_runbook.stages.cenario import select_profile

    run_site = tmp_path / "run" / "s"
    run_site.mkdir(parents=True)
    cen = StageResult("s", "cenario")
    cen.add("CEN_PERFIL", "Perfil", OK, "x", "y")
    cen.finish(perfil=dict(select_profile("prontuario", 900)))
    cen.save(run_site)
    r = run(make_site(tmp_path, users=30), run_site_dir=run_site)
    assert r.metrics["perfil"]["profile_id"] == "ate_1000"
    assert r.metrics["perfil_origem"] == "etapa 1 (cenário)"
    assert checks(r)["AMB_POSTGRES"].status is ALERTA  # two servers: DB not checked here
    # no cenário result in this run: the official table from the site's own answers
    r = run(make_site(tmp_path, users=30), run_site_dir=tmp_path / "vazio")
    assert r.metrics["perfil"]["profile_id"] == "ate_40"
    assert "não executada" in r.metrics["perfil_origem"]


def test_unknown_profile_leaves_sizing_pending(tmp_path):
    r = run(make_site(tmp_path, users=None))
    c = checks(r)
    assert c["AMB_PERFIL"].status is PENDENTE
    assert "AMB_RAM" not in c and "AMB_JVM" not in c
    assert c["AMB_LOCALE"].status is OK  # the rest is still checked
    assert r.status is PENDENTE


def test_no_probe_under_papermill_is_pending_with_the_command(tmp_path):
    r = run(make_site(tmp_path, None), interactive=False)
    assert r.status is PENDENTE
    c = checks(r)["AMB_SONDAGEM"]
    assert "esus-runbook sondar --json s-sondagem.json --velocidade-disco" in c.remedy
    assert r.metrics["comando_sondagem"].startswith("esus-runbook sondar")
    assert ambiente.charts(r) == []


def test_no_probe_in_jupyterlab_never_probes_this_machine(tmp_path):
    """The analyst's own computer is not the site's server: pending, with both commands."""
    r = run(make_site(tmp_path, None), interactive=True)
    assert r.status is PENDENTE
    c = checks(r)["AMB_SONDAGEM"]
    assert c.status is PENDENTE and r.metrics["sondagem"] is None
    assert "esus-runbook sondar --json s-sondagem.json --velocidade-disco" in c.remedy
    assert "--ssh usuario@servidor" in c.remedy and "sondar_esta_maquina" in c.remedy
    assert set(checks(r)) == {"AMB_SONDAGEM"}  # nothing of this machine recorded


def test_probe_file_origin_is_shown(tmp_path):
    r = run(make_site(tmp_path))
    c = checks(r)["AMB_SONDAGEM"]
    assert r.metrics["origem_tipo"] == "arquivo" and "origem: arquivo" in c.observed


@pytest.mark.parametrize("interactive", [True, False])
def test_this_machine_is_probed_only_when_the_site_says_so(tmp_path, interactive):
    r = run(make_site(tmp_path, None, this_machine="sim"), interactive=interactive)
    c = checks(r)
    assert c["AMB_SONDAGEM"].status is OK
    assert r.metrics["origem_tipo"] == "esta_maquina"
    assert "origem: sondagem desta máquina" in c["AMB_SONDAGEM"].observed
    assert c["AMB_RAM"].status in (OK, FALHA) and "GiB" in c["AMB_RAM"].observed
    assert r.metrics["sondagem"]["cpu"]["logical_cores"]


@pytest.mark.parametrize("name,words", [("nao-existe", "não encontrado"),
                                        ("corrompida", "JSON inválido"),
                                        ("versao-futura", "versão mais nova")])
def test_missing_or_corrupt_probe_fails_the_stage(tmp_path, name, words):
    r = run(make_site(tmp_path, name))
    assert r.status is FALHA
    c = checks(r)["AMB_SONDAGEM"]
    assert c.status is FALHA and words in c.observed and f"{name}.json" in c.observed
    assert "esus-runbook sondar" in c.remedy


def test_odd_fields_warn_but_do_not_stop_the_stage(tmp_path):
    p = base()
    p["memory"]["total_bytes"] = "16 GB"
    r = run(make_site(tmp_path, p))
    c = checks(r)
    assert c["AMB_SONDAGEM"].status is ALERTA and "memory.total_bytes" in c["AMB_SONDAGEM"].observed
    assert c["AMB_RAM"].status is PENDENTE


# --------------------------------------------------------------------------- outputs
def test_charts_and_jvm_html_come_from_the_result_json(tmp_path):
    probe = tmp_path / "p.json"
    probe.write_text((PROBES / "linux-6gb.json").read_text())
    r = run(make_site(tmp_path, probe, users=40))
    probe.unlink()  # the report must not need the probe any more
    again = StageResult.from_dict(json.loads(json.dumps(r.to_dict())))
    charts = ambiente.charts(again)
    assert [t for t, _ in charts] == ["Servidor medido × perfil exigido",
                                      "Memória do servidor e a JVM do PEC"]
    svg = charts[0][1]
    assert svg.startswith("<svg") and "RAM (GB)" in svg
    html = ambiente.jvm_html(again)
    assert "/etc/systemd/system/e-SUS-PEC.service.d/esus-runbook-jvm.conf" in html
    assert "ExecStartPre=-/bin/sed" in html and "-Xmx2048M" in html
    assert "&#x27;" in html or "&#39;" in html  # the sed quotes are escaped in HTML


def test_stage_module_stays_light_to_import():
    """Importing the stage adds no heavy module beyond what the foundation already loads."""
    import subprocess
    import sys

    def heavy(module):
        code = (f"import sys, {module}; print(sorted(m for m in "
                "('pandas', 'matplotlib', 'lxml', 'psutil', 'requests') if m in sys.modules))")
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.strip()

    assert heavy("esus_runbook.stages.ambiente") == heavy("esus_runbook.stages.cenario")
    assert "matplotlib" not in heavy("esus_runbook.stages.ambiente")


# --------------------------------------------------------------------------- demo
def test_demo_sites_one_passes_one_fails():
    ctx = StageContext()
    centro = evaluate("ambiente", load_site(EXAMPLES / "sites" / "ubs-centro.yaml"), ctx)
    assert centro.status in (OK, ALERTA)
    assert all(c.status in (OK, ALERTA) for c in centro.checks)
    vila = evaluate("ambiente", load_site(EXAMPLES / "sites" / "ubs-vila-nova.yaml"), ctx)
    assert vila.status is FALHA
    failing = {c.id for c in vila.checks if c.status is FALHA}
    assert {"AMB_RAM", "AMB_LOCALE", "AMB_PORTAS", "AMB_REMOVEIPC"} <= failing
    sms = evaluate("ambiente", load_site(EXAMPLES / "sites" / "sms-centralizado.yaml"), ctx)
    assert sms.status is PENDENTE


@pytest.mark.notebooks
def test_demo_run_ambiente_notebooks(demo_run):
    import nbformat

    status = {sid: json.loads((demo_run / sid / "ambiente.json").read_text())["status"]
              for sid in ("ubs-centro", "ubs-vila-nova", "sms-centralizado")}
    assert status["ubs-centro"] in ("ok", "alerta")
    assert status["ubs-vila-nova"] == "falha"
    assert status["sms-centralizado"] == "pendente"
    nb = nbformat.read(demo_run / "ubs-centro" / "02_ambiente.ipynb", as_version=4)
    outputs = json.dumps([o for c in nb.cells if c.cell_type == "code" for o in c.outputs])
    assert "esus-runbook-jvm.conf" not in outputs or "ExecStartPre" in outputs
    assert "-Xmx4096M" in outputs and "error" not in [
        o.get("output_type") for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    report = (demo_run / "ubs-vila-nova" / "relatorio.html").read_text()
    assert "AMB_REMOVEIPC" in report and "Medido" in report


def test_copy_of_base_is_not_shared():
    a, b = base(), base()
    a["memory"]["total_bytes"] = 1
    assert b["memory"]["total_bytes"] != 1 and copy.deepcopy(a) == a


def test_system_locale_check_says_what_the_service_starts_with(tmp_path):
    """docs/dominio.md, "Ambiente": the PEC service inherits the system default locale; the
    installer command's LANG=pt_BR.UTF-8 does not reach it."""
    probe = base()
    probe["locale"].update(lang="pt_BR.UTF-8", system_lang=None,
                           system_source="/etc/default/locale")
    r = run(make_site(tmp_path, probe))
    c = checks(r)["AMB_LOCALE_SISTEMA"]
    assert c.status is ALERTA
    assert c.observed.startswith("nenhum LANG configurado (/etc/default/locale)")
    assert "update-locale LANG=pt_BR.UTF-8" in c.remedy and "reinicie o servidor" in c.remedy
    old = base()
    for k in ("system_lang", "system_ctype", "system_source"):
        old["locale"].pop(k)
    c = checks(run(make_site(tmp_path, old)))["AMB_LOCALE_SISTEMA"]
    assert c.observed == "não verificado" and "localectl status" in c.remedy
    # the pre-install checklist of stage 04 reads it
    from esus_runbook.stages import instalacao

    site = make_site(tmp_path, probe)
    pre = {x.id: x for x in instalacao.checklist(site, run(site))}["INST_PRE_LOCALE_SISTEMA"]
    assert pre.status is ALERTA and "AMB_LOCALE_SISTEMA: nenhum LANG" in pre.observed
    win = make_site(tmp_path, "windows-server-2019", instalador={"plataforma": "windows"})
    r = run(win)
    assert "AMB_LOCALE_SISTEMA" not in checks(r)
    assert "INST_PRE_LOCALE_SISTEMA" not in {x.id for x in instalacao.checklist(win, r)}
