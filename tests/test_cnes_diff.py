"""``xml diff`` (issue 9): every change kind with small files, the lotação identity rules,
exit codes, masking, the generator's next/previous month, and the ``xml`` stage's comparison
with ``xml.anterior`` (confirmation code, falha/alerta, charts, bounded metrics)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from esus_runbook import ids, stages
from esus_runbook.cnes.diff import (
    ACKNOWLEDGED_KINDS,
    KINDS,
    SCHEMA,
    WHERE,
    confirmation_code,
    diff,
    example_tables,
)
from esus_runbook.cnes.parser import parse
from esus_runbook.demo import cnes_xml as synth
from esus_runbook.demo.cnes_model import Changes
from esus_runbook.sites.loading import load_site
from esus_runbook.status import ExitCode, HtmlReport, Status

from .support.project import EXAMPLES, run_cli

BASE = synth.Spec(professionals=300, seed=5, cnes=("2386224",), inactive_teams=2)
CPF_MASK = re.compile(r"\*\*\*\.\d{3}\.\d{3}-\*\*")
CNS_MASK = re.compile(r"\*\*\* \*\*\*\* \*\*\*\* \d{4}")
XML_DIR = EXAMPLES / "xml"

# (Changes field, count, the kind it must produce)
SINGLE = [
    ("professionals_removed", 3, "PROFESSIONAL_REMOVED"),
    ("professionals_added", 4, "PROFESSIONAL_ADDED"),
    ("cns_changed", 2, "CNS_CHANGED"),
    ("lotacoes_removed", 2, "LOTACAO_REMOVED"),
    ("lotacoes_added", 2, "LOTACAO_ADDED"),
    ("lotacoes_team_changed", 2, "LOTACAO_CHANGED"),
    ("lotacoes_cbo_changed", 2, "LOTACAO_CHANGED"),
    ("lotacoes_unit_changed", 2, "LOTACAO_CHANGED"),
    ("teams_added", 2, "TEAM_ADDED"),
    ("teams_removed", 1, "TEAM_REMOVED"),
    ("teams_deactivated", 2, "TEAM_DEACTIVATED"),
    ("teams_reactivated", 1, "TEAM_REACTIVATED"),
    ("units_added", 2, "UNIT_ADDED"),
    ("units_removed", 1, "UNIT_REMOVED"),
]


def _pair(tmp_path: Path, changes: Changes, spec: synth.Spec = BASE,
          suffix: str = ".xml") -> tuple[Path, Path, dict[str, int]]:
    old, new = tmp_path / f"anterior{suffix}", tmp_path / f"novo{suffix}"
    return old, new, synth.write_pair(spec, changes, old, new)


def _kinds(report) -> set[str]:
    return set(report.changes["kind"])


def test_kinds_are_the_issues_with_severities():
    assert list(KINDS) == [
        "PROFESSIONAL_REMOVED", "PROFESSIONAL_ADDED", "CNS_CHANGED", "LOTACAO_REMOVED",
        "LOTACAO_ADDED", "LOTACAO_CHANGED", "TEAM_ADDED", "TEAM_REMOVED", "TEAM_DEACTIVATED",
        "TEAM_REACTIVATED", "UNIT_ADDED", "UNIT_REMOVED", "VERSION_DOWNGRADE",
        "MUNICIPALITY_CHANGED"]
    attention = {"PROFESSIONAL_REMOVED", "CNS_CHANGED", "LOTACAO_REMOVED", "TEAM_REMOVED",
                 "TEAM_DEACTIVATED", "UNIT_REMOVED"}
    for code, k in KINDS.items():
        expected = ("error" if code in ("VERSION_DOWNGRADE", "MUNICIPALITY_CHANGED") else
                    "warning" if code in attention else "info")
        assert k.severity == expected, code
        assert k.title and k.consequence
    assert set(ACKNOWLEDGED_KINDS) == attention


@pytest.mark.parametrize("field,n,kind", SINGLE, ids=[f for f, _, _ in SINGLE])
def test_each_change_kind_alone(tmp_path, field, n, kind):
    old, new, expected = _pair(tmp_path, Changes(**{field: n}))
    report = diff(old, new)
    assert report.counts == expected
    assert report.counts[kind] >= n
    # nothing else than what the generator did (teams/units leaving move lotações)
    assert _kinds(report) == {k for k, v in expected.items() if v}
    rows = report.changes[report.changes["kind"] == kind]
    assert (rows["severity"] == KINDS[kind].severity).all()
    assert rows["message"].str.len().min() > 40
    if kind.startswith(("PROFESSIONAL", "CNS", "LOTACAO")):
        assert rows["cpf"].map(lambda v: bool(CPF_MASK.fullmatch(v))).all()
    if kind.startswith(("TEAM", "UNIT", "LOTACAO")):
        assert rows["cnes"].str.fullmatch(r"\d{7}").all()
    if kind.startswith("TEAM"):
        assert rows["ine"].str.fullmatch(r"\d{10}").all()
    line = "line_new" if kind.endswith(("ADDED", "REACTIVATED")) else "line_old"
    assert rows[line].notna().all() and (rows[line] > 0).all()
    assert report.exit_code == (1 if KINDS[kind].severity != "info" else 0)


def test_lines_point_at_the_elements(tmp_path):
    old, new, _ = _pair(tmp_path, Changes(professionals_removed=2, professionals_added=2,
                                          lotacoes_cbo_changed=2, teams_deactivated=1,
                                          units_removed=1))
    lines = {"old": old.read_text(encoding="latin-1").splitlines(),
             "new": new.read_text(encoding="latin-1").splitlines()}
    tags = {"PROFESSIONAL": "DADOS_PROFISSIONAIS", "LOTACAO": "DADOS_LOTACOES",
            "TEAM": "DADOS_EQUIPES", "UNIT": "DADOS_GERAIS_ESTABELECIMENTOS"}
    report = diff(old, new)
    for rec in report.records():
        tag = tags[rec["kind"].split("_")[0]]
        for side in ("old", "new"):
            n = rec["where"].get(f"line_{side}")
            if n is not None:
                assert tag in lines[side][n - 1], (rec["kind"], side)


def test_version_downgrade_and_upgrade(tmp_path):
    old, new, expected = _pair(tmp_path, Changes(version="3.0"))
    report = diff(old, new)
    assert expected["VERSION_DOWNGRADE"] == 1 and report.counts == expected
    rec = report.records()[0]
    assert rec["kind"] == "VERSION_DOWNGRADE" and rec["severity"] == "error"
    assert rec["where"]["version_old"] == "3.1" and rec["where"]["version_new"] == "3.0"
    assert report.exit_code == 1
    # the other way round (3.0 imported, 3.1 now) is not a change that needs attention
    assert diff(new, old).counts["VERSION_DOWNGRADE"] == 0


def test_municipality_changed_stops_the_comparison(tmp_path):
    old, new, expected = _pair(tmp_path, Changes(ibge="3550308", professionals_removed=2))
    assert expected["MUNICIPALITY_CHANGED"] == 1
    report = diff(old, new)
    assert report.counts["MUNICIPALITY_CHANGED"] == 1
    assert _kinds(report) == {"MUNICIPALITY_CHANGED"} and not report.compared
    assert report.exit_code == 1 and any("municípios diferentes" in n for n in report.notes)
    w = report.records()[0]["where"]
    assert (w["ibge_old"], w["ibge_new"]) == ("2927408", "3550308")


def test_every_kind_at_once_and_the_previous_month(tmp_path):
    every = Changes(professionals_removed=3, professionals_added=3, cns_changed=2,
                    lotacoes_removed=2, lotacoes_added=2, lotacoes_team_changed=2,
                    lotacoes_cbo_changed=1, lotacoes_unit_changed=1, teams_added=1,
                    teams_removed=1, teams_deactivated=1, teams_reactivated=1, units_added=1,
                    units_removed=1, version="3.0")
    old, new, expected = _pair(tmp_path, every, suffix=".zip")
    report = diff(old, new)
    assert report.counts == expected
    assert {k for k, v in report.counts.items() if v} == set(KINDS) - {"MUNICIPALITY_CHANGED"}
    # months=-1: the changed file is the older one; the counts are those of diff(it, base)
    back = tmp_path / "back"
    back.mkdir()
    older, base, inverse = _pair(back, replace(every, months=-1, version=None))
    report = diff(older, base)
    assert report.counts == inverse
    assert inverse["PROFESSIONAL_REMOVED"] == 3 and inverse["PROFESSIONAL_ADDED"] == 3
    assert inverse["TEAM_DEACTIVATED"] == 1 and inverse["TEAM_REACTIVATED"] == 1
    assert parse(older).header["DATA"] < parse(base).header["DATA"]


def test_generator_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="inactive teams"):
        synth.build(replace(BASE, inactive_teams=0, changes=Changes(teams_reactivated=1)))
    with pytest.raises(ValueError, match="not enough"):
        synth.build(replace(BASE, changes=Changes(professionals_removed=10_000)))
    assert Changes.parse("professionals_removed=3, version=3.0") == \
        Changes(professionals_removed=3, version="3.0")
    with pytest.raises(ValueError, match="unknown change"):
        Changes.parse("profissionais=3")


def test_identical_files_have_no_changes(tmp_path):
    path = synth.write_file(BASE, tmp_path / "a.zip")
    report = diff(path, path)
    assert report.changes.empty and report.exit_code == 0
    assert report.confirmation_code is None
    assert any("idênticos" in n for n in report.notes)
    assert set(report.counts.values()) == {0}


# --------------------------------------------------------------------------- identity
def _xml(units: dict[str, list[tuple[str, bool]]], profs: list[tuple[str, str, list]],
         date: str = "2026-11-20") -> bytes:
    """A minimal CNES XML: units {cnes: [(ine, active)]}, profs [(cpf, cns, lotações)]
    with lotações [(cnes, ine, cbo)]."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<ImportarXMLCNES>\n'
           f'<IDENTIFICACAO DATA="{date}" ORIGEM="PORTAL" DESTINO="ESUS_AB" '
           'CO_IBGE_MUN="2927408" VERSAO_XSD="3.1">\n<ESTABELECIMENTOS>\n']
    for cnes, teams in units.items():
        out.append(f'<DADOS_GERAIS_ESTABELECIMENTOS NM_FANTA="UBS {cnes}" CNES="{cnes}">\n'
                   '<EQUIPES>\n')
        out += [f'<DADOS_EQUIPES TP_EQUIPE="70" CO_INE="{ine}" '
                f'DT_DESATIVACAO="{"" if active else "01/10/2026"}"/>\n' for ine, active in teams]
        out.append("</EQUIPES>\n</DADOS_GERAIS_ESTABELECIMENTOS>\n")
    out.append("</ESTABELECIMENTOS>\n<PROFISSIONAIS>\n")
    for cpf, cns, lots in profs:
        out.append(f'<DADOS_PROFISSIONAIS NM_PROF="FULANA DE TAL" CPF_PROF="{cpf}" '
                   f'CO_CNS="{cns}">\n<LOTACOES>\n')
        out += [f'<DADOS_LOTACOES CNES="{c}" CO_INE="{i}" CO_CBO="{b}"/>\n' for c, i, b in lots]
        out.append("</LOTACOES>\n</DADOS_PROFISSIONAIS>\n")
    out.append("</PROFISSIONAIS>\n</IDENTIFICACAO>\n</ImportarXMLCNES>\n")
    return "".join(out).encode()


U1, U2 = "2386224", "2386232"
T1, T2, T3 = (ids.with_dv(f"00000010{i}", "ine") for i in (1, 2, 3))
A, B, C = "225142", "223565", "322245"
CPFS = list(synth.cpfs(12, 9))
CNSS = list(synth.cnss(12, 9, np.random.default_rng(9)))


def _identity_files(tmp_path: Path) -> tuple[Path, Path]:
    units = {U1: [(T1, True), (T2, True), (T3, True)], U2: []}
    p = lambda i, lots, cns=None: (CPFS[i], cns or CNSS[i], lots)  # noqa: E731
    old = [p(0, [(U1, T1, A), (U1, "", B)]),      # team change; the other lotação stays
           p(1, [(U1, "", A)]),                   # occupation change
           p(2, [(U1, "", A)]),                   # unit change
           p(3, [(U1, "", A)]),                   # unit and occupation: removed + added
           p(4, [(U1, T1, A), (U1, T1, A)]),      # repeated lotação = one
           p(5, [(U1, T1, A), (U1, T2, A)]),      # two teams, one moves: T1 → T3
           p(6, [(U1, "", A), (U2, "", B)]),      # leaves the file: one change only
           ("", CNSS[9], [(U1, "", A)]),          # no CPF: not compared
           p(10, [(U1, "", C)])]                  # CNS changes
    new = [p(0, [(U1, T2, A), (U1, "", B)]),
           p(1, [(U1, "", C)]),
           p(2, [(U2, "", A)]),
           p(3, [(U2, "", C)]),
           p(4, [(U1, T1, A)]),
           p(5, [(U1, T2, A), (U1, T3, A)]),
           p(7, [(U2, "", B)]),                   # new professional
           ("", CNSS[8], [(U2, "", B)]),
           p(10, [(U1, "", C)], cns=CNSS[11])]
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    a.write_bytes(_xml(units, old))
    b.write_bytes(_xml(units, new, date="2026-12-20"))
    return a, b


def test_lotacao_identity_and_pairing(tmp_path):
    a, b = _identity_files(tmp_path)
    report = diff(a, b)
    c = report.changes
    counts = {k: v for k, v in report.counts.items() if v}
    assert counts == {"PROFESSIONAL_REMOVED": 1, "PROFESSIONAL_ADDED": 1, "CNS_CHANGED": 1,
                      "LOTACAO_CHANGED": 4, "LOTACAO_REMOVED": 1, "LOTACAO_ADDED": 1}
    mask = ids.mask_cpf
    changed = c[c["kind"] == "LOTACAO_CHANGED"].set_index("cpf")
    row = changed.loc[mask(CPFS[0])]
    assert (row["ine"], row["ine_new"], row["cbo_new"], row["cnes_new"]) == (T1, T2, None, None)
    row = changed.loc[mask(CPFS[1])]
    assert (row["cbo"], row["cbo_new"], row["ine_new"]) == (A, C, None)
    row = changed.loc[mask(CPFS[2])]
    assert (row["cnes"], row["cnes_new"], row["ine_new"]) == (U1, U2, None)
    row = changed.loc[mask(CPFS[5])]
    assert (row["ine"], row["ine_new"]) == (T1, T3)
    removed = c[c["kind"] == "LOTACAO_REMOVED"].iloc[0]
    added = c[c["kind"] == "LOTACAO_ADDED"].iloc[0]
    assert removed["cpf"] == added["cpf"] == mask(CPFS[3])
    assert (removed["cnes"], removed["cbo"], added["cnes"], added["cbo"]) == (U1, A, U2, C)
    gone = c[c["kind"] == "PROFESSIONAL_REMOVED"].iloc[0]
    assert gone["cpf"] == mask(CPFS[6]) and "e mais 1 lotação" in gone["message"]
    cns = c[c["kind"] == "CNS_CHANGED"].iloc[0]
    assert cns["cns_old"] == ids.mask_cns(CNSS[10]) and cns["cns_new"] == ids.mask_cns(CNSS[11])
    # the team change's message names both teams; no full identifier anywhere
    assert T1 in changed.loc[mask(CPFS[0]), "message"] and "→" in changed.loc[mask(CPFS[0]),
                                                                                "message"]
    text = report.json_text() + report.to_html()
    for v in CPFS + CNSS:
        assert v not in text
    assert "FULANA" not in text


def test_swapped_arguments_are_noted(tmp_path):
    a, b = _identity_files(tmp_path)
    report = diff(b, a)
    assert any("ordem dos arquivos" in n for n in report.notes)


def test_confirmation_code_ignores_lines_and_order(tmp_path):
    a, b = _identity_files(tmp_path)
    code = diff(a, b).confirmation_code
    assert re.fullmatch(r"[0-9a-f]{12}", code)
    spaced = tmp_path / "b2.xml"
    spaced.write_bytes(b.read_bytes().replace(b"\n", b"\n\n"))
    again = diff(a, spaced)
    assert again.changes["line_new"].dropna().max() > diff(a, b).changes["line_new"].max()
    assert again.confirmation_code == code
    shuffled = again.changes.sample(frac=1, random_state=1)
    assert confirmation_code(shuffled) == code
    # another set of removals gives another code; no removal, no code
    other = synth.write_file(BASE, tmp_path / "o.xml")
    assert diff(a, other).confirmation_code != code
    assert confirmation_code(again.changes[again.changes["severity"] == "info"]) is None


# --------------------------------------------------------------------------- outputs
def test_json_document_and_html(tmp_path):
    old, new, expected = _pair(tmp_path, Changes(professionals_removed=2, cns_changed=1,
                                                 lotacoes_team_changed=1, teams_added=1))
    report = diff(old, new)
    data = json.loads(report.json_text())
    assert data == report.to_json()
    assert data["schema"] == SCHEMA
    assert {"schema", "old", "new", "counts", "changes"} <= set(data)
    assert data["counts"] == expected
    assert data["old"]["counts"]["professionals"] == 300
    assert data["confirmation_code"] == report.confirmation_code
    for ch in data["changes"]:
        assert set(ch) == {"kind", "severity", "where", "message"}
        assert set(ch["where"]) <= set(WHERE)
        assert all(v is not None for v in ch["where"].values())
    assert len(data["changes"]) == sum(expected.values())
    out = report.write_html(tmp_path / "d.html").read_text(encoding="utf-8")
    assert "<svg" in out and "PROFESSIONAL_REMOVED" in out and report.confirmation_code in out
    # label and CSS class from Severity (template filters): info is an ok cell, not a warning
    assert '<tr class="cell-alerta" data-kind="PROFESSIONAL_REMOVED">' in out
    assert '<tr class="cell-ok" data-kind="TEAM_ADDED">' in out
    assert '<td class="k">informação</td>' in out and '<td class="k">alerta</td>' in out
    assert {ch["severity"] for ch in data["changes"]} == {"warning", "info"}
    assert isinstance(report, HtmlReport) and report.exit_code is ExitCode.FINDINGS
    report.shown = 1
    assert len([x for x in report.text().splitlines() if x.startswith("  - ")]) == 1
    secrets = set(parse(old).professionals["cpf"]) | set(parse(old).professionals["cns"]) | \
        set(parse(new).professionals["cpf"]) | set(parse(new).professionals["cns"])
    text = report.json_text() + out + json.dumps(report.compact(), ensure_ascii=False)
    assert not [s for s in secrets if s and s in text]
    names = set(parse(old, names=True).professionals["nome"])
    assert not [n for n in names if n and n in text]


def test_cli_exit_codes_outputs_and_refusals(tmp_path, cli_main):
    old, new, expected = _pair(tmp_path, Changes(professionals_removed=2, units_added=1))
    j, h = tmp_path / "d.json", tmp_path / "d.html"
    proc = run_cli("xml", "comparar", old, new, "--json", j, "--html", h)
    assert proc.returncode == 1, proc.stderr
    assert "PROFESSIONAL_REMOVED" in proc.stdout and "código de confirmação" in proc.stdout
    assert json.loads(j.read_text())["counts"] == expected
    assert "<html" in h.read_text()
    for cpf in parse(old).professionals["cpf"]:
        assert cpf not in proc.stdout
    assert CPF_MASK.search(proc.stdout)
    # only additions: nothing needs attention
    sub = tmp_path / "x"
    sub.mkdir()
    a2, b2, _ = _pair(sub, Changes(professionals_added=2, teams_added=1))
    proc = cli_main("xml", "comparar", a2, b2)  # the other calls in this process
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nada exige atenção" in proc.stdout
    # refused files: exit 2, one pt-BR line naming the file, no traceback, no output
    hostile = tmp_path / "hostil.xml"
    hostile.write_bytes(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')
    out = tmp_path / "nao.json"
    for run, args, name in ((run_cli, (old, hostile), "hostil.xml"),
                            (cli_main, (tmp_path / "sumiu.zip", new), "sumiu.zip")):
        proc = run("xml", "comparar", *args, "--json", out)
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0] and "Traceback" not in proc.stderr
        assert not out.exists()
    proc = cli_main("xml", "comparar", old)
    assert proc.returncode == 2 and "faltam os argumentos" in proc.stderr


# --------------------------------------------------------------------------- stage
def _site(tmp_path: Path, anterior: str | None, arquivo: str | None = None,
          code: str | None = None) -> Path:
    text = (EXAMPLES / "sites" / "ubs-centro.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^  anterior:.*\n", "", text)
    text = re.sub(r"(?m)^  alteracoes_confirmadas:.*\n", "", text)
    text = text.replace("probe: ../probes/ubs-centro.json", "probe: null")
    xml = f"  arquivo: {arquivo or XML_DIR / 'XmlParaESUS31_292740.zip'}\n"
    if anterior:
        xml += f"  anterior: {anterior}\n"
    if code:
        xml += f'  alteracoes_confirmadas: "{code}"\n'
    text = re.sub(r"(?m)^  arquivo: \.\./xml/XmlParaESUS31_292740\.zip\n", xml, text)
    p = tmp_path / "site.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _checks(r) -> dict[str, Status]:
    return {c.id: c.status for c in r.checks}


def test_stage_demo_sites():
    r = stages.evaluate("xml", load_site(EXAMPLES / "sites" / "ubs-centro.yaml"))
    assert r.status is Status.OK
    checks = _checks(r)
    for cid in ("XML_ANTERIOR", "XML_DIFF_MUNICIPIO", "XML_DIFF_VERSAO",
                "XML_DIFF_PROFISSIONAIS", "XML_DIFF_CNS", "XML_DIFF_REMOCOES"):
        assert checks[cid] is Status.OK, cid
    d = r.metrics["diff"]
    assert d["confirmado"] and d["counts"]["PROFESSIONAL_REMOVED"] == 3
    assert "confirmado pelo analista" in next(c.observed for c in r.checks
                                              if c.id == "XML_DIFF_PROFISSIONAIS")
    titles = [t for t, _ in stages.chart_svgs(r)]
    assert titles[-1].startswith("O que a importação vai mudar")
    frames = example_tables(r.metrics["diff"])
    assert "Profissionais que perdem o acesso" in frames
    assert frames["Profissionais que perdem o acesso"]["cpf"].str.fullmatch(CPF_MASK).all()
    r = stages.evaluate("xml", load_site(EXAMPLES / "sites" / "ubs-vila-nova.yaml"))
    checks = _checks(r)
    assert checks["XML_DIFF_PROFISSIONAIS"] is Status.ALERTA
    assert checks["XML_DIFF_CNS"] is Status.ALERTA and checks["XML_DIFF_REMOCOES"] is Status.ALERTA
    alerta = next(c for c in r.checks if c.id == "XML_DIFF_PROFISSIONAIS")
    assert r.metrics["diff"]["codigo_confirmacao"] in alerta.remedy
    assert "xml.alteracoes_confirmadas" in alerta.remedy


def test_stage_confirmation_flow(tmp_path):
    old, new, _ = _pair(tmp_path, Changes(professionals_removed=2, cns_changed=1,
                                          professionals_added=1),
                        spec=replace(BASE, inactive_teams=0), suffix=".zip")
    r = stages.evaluate("xml", load_site(_site(tmp_path, str(old), str(new))))
    assert r.status is Status.ALERTA
    checks = _checks(r)
    assert checks["XML_DIFF_PROFISSIONAIS"] is Status.ALERTA
    assert checks["XML_DIFF_CNS"] is Status.ALERTA
    assert checks["XML_DIFF_REMOCOES"] is Status.OK
    code = r.metrics["diff"]["codigo_confirmacao"]
    r = stages.evaluate("xml", load_site(_site(tmp_path, str(old), str(new), code)))
    assert r.status is Status.OK and r.metrics["diff"]["confirmado"]
    r = stages.evaluate("xml", load_site(_site(tmp_path, str(old), str(new), "0" * 12)))
    assert r.status is Status.ALERTA
    stale = next(c for c in r.checks if c.id == "XML_DIFF_PROFISSIONAIS")
    assert "000000000000" in stale.remedy and code in stale.remedy
    # without xml.anterior there is no comparison (and no diff check)
    r = stages.evaluate("xml", load_site(_site(tmp_path, None, str(new))))
    assert not [c for c in _checks(r) if c.startswith(("XML_DIFF", "XML_ANTERIOR"))]
    assert "diff" not in r.metrics


def test_stage_invalid_confirmation_code_is_a_site_error(tmp_path):
    from esus_runbook.errors import InputError

    with pytest.raises(InputError, match="alteracoes_confirmadas"):
        load_site(_site(tmp_path, str(XML_DIR / "XmlParaESUS31_292740-anterior.zip"),
                        code="XYZ"))


def test_stage_falha_for_refused_missing_wrong_municipality_and_downgrade(tmp_path):
    r = stages.evaluate("xml", load_site(_site(tmp_path, str(tmp_path / "sumiu.zip"))))
    assert _checks(r)["XML_ANTERIOR"] is Status.FALHA and r.status is Status.FALHA
    hostile = tmp_path / "h.xml"
    hostile.write_bytes(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')
    r = stages.evaluate("xml", load_site(_site(tmp_path, str(hostile))))
    check = next(c for c in r.checks if c.id == "XML_ANTERIOR")
    assert check.status is Status.FALHA and "DOCTYPE" in check.observed
    sp = synth.write_file(synth.Spec(professionals=60, ibge="3550308", uf="SP"),
                          tmp_path / "sp.zip")
    r = stages.evaluate("xml", load_site(_site(tmp_path, str(sp))))
    checks = _checks(r)
    assert checks["XML_DIFF_MUNICIPIO"] is Status.FALHA
    assert "XML_DIFF_PROFISSIONAIS" not in checks       # not compared further
    older = tmp_path / "older"
    older.mkdir()
    old, new, _ = _pair(older, Changes(version="3.0"), spec=replace(BASE, inactive_teams=0))
    r = stages.evaluate("xml", load_site(_site(tmp_path, str(old), str(new))))
    assert _checks(r)["XML_DIFF_VERSAO"] is Status.FALHA


def test_stage_writes_full_report_and_keeps_metrics_bounded(tmp_path):
    many = Changes(professionals_removed=150, professionals_added=300, cns_changed=200,
                   lotacoes_unit_changed=100)
    old, new, _ = _pair(tmp_path, many, spec=synth.Spec(professionals=3000, seed=4),
                        suffix=".zip")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    r = stages.evaluate("xml", load_site(_site(tmp_path, str(old), str(new))),
                        stages.StageContext(run_dir))
    d = r.metrics["diff"]
    assert d["counts"]["PROFESSIONAL_REMOVED"] == 150
    assert len(d["exemplos"]) <= 20 * len(KINDS)
    assert len(json.dumps(r.to_dict())) < 200_000
    html = (run_dir / d["relatorio"]).read_text(encoding="utf-8")
    assert html.count("<code>PROFESSIONAL_REMOVED</code>") >= 150


def test_edge_files_without_professionals_or_teams(tmp_path):
    units = {U1: [], U2: []}
    people = [(CPFS[0], CNSS[0], [(U1, "", A)]), (CPFS[1], CNSS[1], [])]
    empty, full = tmp_path / "vazio.xml", tmp_path / "cheio.xml"
    empty.write_bytes(_xml(units, []))
    full.write_bytes(_xml(units, people))
    report = diff(empty, full)
    assert {k: v for k, v in report.counts.items() if v} == {"PROFESSIONAL_ADDED": 2}
    assert report.changes["message"].str.contains("sem lotação").sum() == 1
    report = diff(full, empty)
    assert {k: v for k, v in report.counts.items() if v} == {"PROFESSIONAL_REMOVED": 2}
    assert report.exit_code == 1
    report = diff(empty, empty)
    assert report.changes.empty and report.exit_code == 0
