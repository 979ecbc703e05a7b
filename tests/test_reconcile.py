"""``xml reconcile`` (issue 15) against the real PostgreSQL the tests start: a PEC-like schema,
the file imported like PEC does (tests/support/pec_import.py), then edits that produce every
difference kind; unknown schema → pendente; wrong password and refused connection → exit 2
without the secret; read-only session; the ``xml`` stage's "Depois da importação"."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from esus_runbook import stages
from esus_runbook.batch.execution import IOPUB_DEADLINE
from esus_runbook.cnes.parser import parse
from esus_runbook.demo import cnes_xml as synth
from esus_runbook.errors import InputError
from esus_runbook.files.atomic import write_json_atomic
from esus_runbook.pec import (
    CANCEL_GRACE_S,
    ReadDeadline,
    VerifyReport,
    check_database,
    connect,
    connection_options,
)
from esus_runbook.reconcile import KINDS, SCHEMA, reconcile
from esus_runbook.reconcile.pecdb import open_readonly, read_error
from esus_runbook.reconcile.schema import LAYOUT
from esus_runbook.report import render_site_report
from esus_runbook.secret_refs import Secret
from esus_runbook.sites.loading import load_site
from esus_runbook.status import ExitCode, Status

from .support.pec_import import add_lotacao, create_schema, deactivate_lotacao, import_xml
from .support.project import ROOT, run_cli

# `postgres` comes from the fixtures (conftest.py): the tests without a database (input
# refusals, a refused connection, the stage without db_url) are in the fast tier.

SPEC = synth.Spec(professionals=120, seed=15, cnes=("2386224",), inactive_teams=1)
CPF_MASK = re.compile(r"\*\*\*\.\d{3}\.\d{3}-\*\*")
CNS_MASK = re.compile(r"\*\*\* \*\*\*\* \*\*\*\* \d{4}")
NEW_CPF = "52998224725"      # a valid CPF the generator does not produce for SPEC
NEW_CNES = "9999990"


@pytest.fixture(scope="module")
def xml_file(tmp_path_factory) -> Path:
    return synth.write_file(SPEC, tmp_path_factory.mktemp("rec") / "XmlParaESUS31_292740.zip")


@pytest.fixture(scope="module")
def cf(xml_file):
    return parse(xml_file)


class Pec:
    """One PEC-like database: its URL, the esus password and a writable connection."""

    def __init__(self, postgres, name: str):
        self.pg, self.name = postgres, name
        self.url = postgres.url(db=name)
        self.password = Secret(postgres.esus_password, "teste")

    def conn(self):
        return self.pg.connect(self.name, user="esus", password=self.pg.esus_password)

    def sql(self, query: str, params=None):
        with self.conn() as c:
            cur = c.execute(query, params)
            return cur.fetchall() if cur.description else None

    def one(self, query: str, params=None):
        return self.sql(query, params)[0][0]


@pytest.fixture
def make_pec(postgres, pec_db):
    def make(cf=None, imports: dict | None = None, **schema_kw) -> Pec:
        pec = Pec(postgres, pec_db())
        with pec.conn() as c:
            create_schema(c, **schema_kw)
            if cf is not None:
                import_xml(c, cf, **(imports or {}))
        return pec
    return make


@pytest.fixture
def imported(make_pec, cf) -> Pec:
    return make_pec(cf)


def schema_errors(doc) -> list[str]:
    """Violations of the published JSON Schema of the reconciliation's JSON."""
    import jsonschema

    schema = json.loads((ROOT / "esus_runbook" / "schemas" / "xml-reconcile.schema.json")
                        .read_text(encoding="utf-8"))
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]


def counts_of(report) -> dict[str, int]:
    return {k: v for k, v in report.counts.items() if v}


def run(pec: Pec, cf, xml_file, **kw):
    return reconcile(xml_file, pec.url, pec.password, cnes_file=cf, **kw)


def compared_lotacoes(cf) -> pd.DataFrame:
    """The file's distinct lotações outside the teams the file itself deactivates."""
    lot = cf.lotacoes.merge(cf.professionals[["cpf"]], left_on="prof", right_index=True)
    lot = lot.merge(cf.teams[["cnes", "ine", "ativa"]].drop_duplicates(["cnes", "ine"]),
                    on=["cnes", "ine"], how="left")
    lot = lot[lot["ativa"].fillna(True).astype(bool)]
    return lot.drop_duplicates(["cpf", "cnes", "ine", "cbo"])


# --------------------------------------------------------------------------- agreement
def test_clean_import_agrees(imported, cf, xml_file):
    """PEC's real column list (tests/support/pec_import.py, sourced), the file loaded as PEC's import
    does: exit 0. (On the invented tb_lotacao.st_ativo layout's code this ended pendente:
    "faltam tb_lotacao.st_ativo".)"""
    report = run(imported, cf, xml_file)
    assert report.status == "ok" and report.exit_code == 0, report.pec
    assert counts_of(report) == {}
    c = report.pec["counts"]
    compared = compared_lotacoes(cf)
    assert c["lotacoes_do_xml"] == c["lotacoes_do_xml_no_pec"] == len(compared)
    # the file deactivates one team: its lotações are in PEC, held back by the team's flag
    assert (~cf.teams["ativa"]).sum() == 1
    assert c["lotacoes_em_unidade_ou_equipe_desativada"] > 0
    # a professional whose only lotação is in that team is not active in PEC
    assert c["professionals"] == compared["cpf"].nunique() < cf.professionals["cpf"].nunique()
    assert report.pec["versao"] == "5.5.24"
    assert report.pec["schema_fingerprint"].startswith("sha256:")
    assert report.pec["layout"] == LAYOUT and report.pec["faltando"] == []
    assert report.pec["tipos_incompativeis"] == []


def test_real_layout_columns_are_the_sourced_ones(imported):
    """The fixture's tables hold exactly the columns of the inspectdb source, and the key
    relations of the 5.5.22 inventory (tb_lotacao.co_ator_papel → tb_ator_papel)."""
    cols = imported.sql("SELECT table_name, column_name, data_type FROM "
                        "information_schema.columns WHERE table_name IN ('tb_lotacao', "
                        "'tb_ator_papel') ORDER BY table_name, ordinal_position")
    lot = [(c, t) for tb, c, t in cols if tb == "tb_lotacao"]
    assert "st_ativo" not in [c for c, _ in lot]
    assert ("co_ator_papel", "bigint") in lot and ("dt_desativacao_lotacao",
                                                     "timestamp without time zone") in lot
    assert ("st_ativo", "integer") in [(c, t) for tb, c, t in cols if tb == "tb_ator_papel"]
    fk = imported.sql("""SELECT ccu.table_name, ccu.column_name FROM
                         information_schema.table_constraints tc JOIN
                         information_schema.key_column_usage k USING (constraint_name)
                         JOIN information_schema.constraint_column_usage ccu
                         USING (constraint_name) WHERE tc.table_name = 'tb_lotacao'
                         AND k.column_name = 'co_ator_papel'
                         AND tc.constraint_type = 'FOREIGN KEY'""")
    assert fk == [("tb_ator_papel", "co_seq_ator_papel")]


def test_import_again_after_changes_agrees(imported, cf, xml_file):
    """The importer really deactivates and re-activates: lotações PEC deactivated come
    back when the same file is imported again."""
    rows = imported.one("SELECT count(*) FROM tb_lotacao")
    with imported.conn() as c:
        for (aid,) in c.execute("SELECT co_ator_papel FROM tb_lotacao l JOIN tb_ator_papel a "
                                "ON a.co_seq_ator_papel = l.co_ator_papel WHERE a.st_ativo = 1 "
                                "ORDER BY 1 LIMIT 3").fetchall():
            deactivate_lotacao(c, aid)
    assert run(imported, cf, xml_file).counts["LOTACAO_MISSING_IN_PEC"] == 3
    with imported.conn() as c:
        import_xml(c, cf)
    assert counts_of(run(imported, cf, xml_file)) == {}
    # the same rows came back: nothing deleted, nothing created twice
    assert imported.one("SELECT count(*) FROM tb_lotacao") == rows
    assert imported.one("SELECT count(*) FROM tb_lotacao WHERE dt_desativacao_lotacao IS NOT "
                        "NULL") == 0


def test_identifiers_stored_as_numbers_or_padded_still_match(imported, cf, xml_file):
    """A CPF kept as a number loses its leading zeros; a CNES may carry spaces: the query
    normalizes both like the parser does, so nothing differs."""
    assert cf.professionals["cpf"].str.startswith("0").any()    # the case is exercised
    imported.sql("ALTER TABLE tb_prof ALTER COLUMN nu_cpf TYPE bigint USING nu_cpf::bigint")
    imported.sql("ALTER TABLE tb_unidade_saude ALTER COLUMN nu_cnes TYPE text")
    imported.sql("UPDATE tb_unidade_saude SET nu_cnes = ' ' || nu_cnes || ' '")
    report = run(imported, cf, xml_file)
    assert counts_of(report) == {} and report.status == "ok"


@pytest.mark.parametrize("analyzed", [False, True])
def test_professionals_read_whole_or_joined_agree(imported, cf, xml_file, analyzed):
    """tb_prof is read whole when the planner knows it is of the file's size (after
    ANALYZE) and joined with the file's CPFs on the server otherwise (a state-wide PEC, or
    no statistics): the same answer either way."""
    imported.sql("INSERT INTO tb_prof (nu_cpf, nu_cns, no_profissional) VALUES "
                 "(%s, '898001000000005', 'X')", (NEW_CPF,))
    edit_cns(imported, cf)
    if analyzed:
        imported.sql("ANALYZE tb_prof")
    rows = imported.one("SELECT reltuples FROM pg_class WHERE relname = 'tb_prof'")
    assert (rows > 0) is analyzed
    report = run(imported, cf, xml_file)
    assert counts_of(report) == {"CNS_MISMATCH": 1}


def test_not_imported(make_pec, cf, xml_file):
    report = run(make_pec(), cf, xml_file)
    assert counts_of(report) == {"NOT_IMPORTED": 1}
    assert report.not_imported and report.exit_code == ExitCode.UNDECIDED  # pendente, as stage 6
    assert "não foi importado" in report.differences["message"].iloc[0]


# --------------------------------------------------------------------------- every kind
# Each case: what the import left out (an older export, an import that failed midway) and
# the edit PEC itself makes afterwards (deactivate, create by hand, update a CNS — never a
# DELETE).
def _some(pec: Pec, query: str, params=None):
    row = pec.sql(query, params)
    assert row, query
    return row[0]


ACTIVE_LOT = ("SELECT l.co_ator_papel, l.co_prof, l.co_unidade_saude, l.co_cbo, l.co_equipe "
              "FROM tb_lotacao l JOIN tb_ator_papel a ON a.co_seq_ator_papel = l.co_ator_papel "
              "JOIN tb_unidade_saude u ON u.co_seq_unidade_saude = l.co_unidade_saude "
              "LEFT JOIN tb_equipe e ON e.co_seq_equipe = l.co_equipe "
              "WHERE a.st_ativo = 1 AND u.st_ativo = 1 AND coalesce(e.st_ativo, 1) = 1 ")
ONLY_LOT_OF_PROF = ("AND NOT EXISTS (SELECT 1 FROM tb_lotacao o JOIN tb_ator_papel oa ON "
                    "oa.co_seq_ator_papel = o.co_ator_papel WHERE oa.st_ativo = 1 AND "
                    "o.co_prof = l.co_prof AND o.co_ator_papel <> l.co_ator_papel) ")


def _active_lotacoes(pec: Pec, unit: int | None = None, team: int | None = None) -> int:
    where = ("AND l.co_unidade_saude = %s " if unit else "") + \
        ("AND l.co_equipe = %s " if team else "")
    return pec.one(f"SELECT count(*) FROM ({ACTIVE_LOT}{where}) x",
                   tuple(v for v in (unit, team) if v))


def _unused_cbo(pec: Pec, pid) -> int:
    return pec.one("SELECT min(co_cbo) FROM tb_cbo WHERE co_cbo NOT IN "
                   "(SELECT co_cbo FROM tb_lotacao WHERE co_prof = %s)", (pid,))


def _first_cpf(cf) -> str:
    return cf.professionals.loc[cf.professionals["cpf"] != "", "cpf"].iloc[0]


def edit_professional_missing(pec: Pec, cf) -> dict[str, int]:
    """Imported from an export without the professional (make_pec's ``imports``)."""
    return {"PROFESSIONAL_MISSING_IN_PEC": 1}


def edit_professional_only(pec: Pec, cf) -> dict[str, int]:
    pid = pec.one("INSERT INTO tb_prof (nu_cpf, nu_cns, no_profissional) VALUES (%s, %s, 'X') "
                  "RETURNING co_seq_prof", (NEW_CPF, "898001000000005"))
    _, _, uid, cid, _ = _some(pec, ACTIVE_LOT + "ORDER BY 1 LIMIT 1")
    with pec.conn() as c:
        add_lotacao(c, pid, uid, cid)
    return {"PROFESSIONAL_ONLY_IN_PEC": 1}


def edit_cns(pec: Pec, cf) -> dict[str, int]:
    pec.sql("UPDATE tb_prof SET nu_cns = '898001000000005' WHERE co_seq_prof = "
            "(SELECT min(co_seq_prof) FROM tb_prof)")
    return {"CNS_MISMATCH": 1}


def edit_lotacao_missing(pec: Pec, cf) -> dict[str, int]:
    aid, *_ = _some(pec, ACTIVE_LOT + "ORDER BY 1 LIMIT 1")
    with pec.conn() as c:
        deactivate_lotacao(c, aid)
    return {"LOTACAO_MISSING_IN_PEC": 1}


def edit_lotacao_only(pec: Pec, cf) -> dict[str, int]:
    _, pid, uid, _, _ = _some(pec, ACTIVE_LOT + "ORDER BY 1 LIMIT 1")
    with pec.conn() as c:
        add_lotacao(c, pid, uid, _unused_cbo(pec, pid))
    return {"LOTACAO_ONLY_IN_PEC": 1}


def _replace(pec: Pec, aid: int, pid: int, uid: int, cid: int, tid) -> None:
    """PEC's way to change a lotação: the old one deactivated, a new one created."""
    with pec.conn() as c:
        deactivate_lotacao(c, aid)
        add_lotacao(c, pid, uid, cid, tid)


def edit_lotacao_cbo(pec: Pec, cf) -> dict[str, int]:
    aid, pid, uid, _, tid = _some(pec, ACTIVE_LOT + ONLY_LOT_OF_PROF + "ORDER BY 1 LIMIT 1")
    _replace(pec, aid, pid, uid, _unused_cbo(pec, pid), tid)
    return {"LOTACAO_MISMATCH": 1}


def edit_lotacao_team(pec: Pec, cf) -> dict[str, int]:
    aid, pid, uid, cid, _ = _some(pec, ACTIVE_LOT + "AND l.co_equipe IS NOT NULL " +
                                  ONLY_LOT_OF_PROF + "ORDER BY 1 LIMIT 1")
    _replace(pec, aid, pid, uid, cid, None)
    return {"LOTACAO_MISMATCH": 1}


def edit_lotacao_unit(pec: Pec, cf) -> dict[str, int]:
    aid, pid, uid, cid, _ = _some(pec, ACTIVE_LOT + ONLY_LOT_OF_PROF + "ORDER BY 1 LIMIT 1")
    other = pec.one("SELECT min(co_seq_unidade_saude) FROM tb_unidade_saude WHERE "
                    "co_seq_unidade_saude <> %s AND st_ativo = 1", (uid,))
    _replace(pec, aid, pid, other, cid, None)
    return {"LOTACAO_MISMATCH": 1}


def _team_of_file(cf):
    active = cf.teams[cf.teams["ativa"]]
    per_team = cf.lotacoes.groupby(["cnes", "ine"]).size()
    return max(zip(active["cnes"], active["ine"], strict=True),
               key=lambda t: (per_team.get(t, 0), t))


def edit_team_missing(pec: Pec, cf) -> dict[str, int]:
    """Imported from an export without the team: its lotações could not be imported."""
    cnes, ine = _team_of_file(cf)
    lot = cf.lotacoes[(cf.lotacoes["cnes"] == cnes) & (cf.lotacoes["ine"] == ine)]
    return {"TEAM_MISSING_IN_PEC": 1, "LOTACAO_MISSING_IN_PEC": len(lot)}


def edit_team_inactive(pec: Pec, cf) -> dict[str, int]:
    """A later import of an export without the team deactivated it (and its lotações'
    papel stay active only if re-activated: here the team alone is off)."""
    cnes, ine = _team_of_file(cf)
    pec.sql("UPDATE tb_equipe e SET st_ativo = 0 FROM tb_unidade_saude u WHERE "
            "u.co_seq_unidade_saude = e.co_unidade_saude AND u.nu_cnes = %s AND e.nu_ine = %s",
            (cnes, ine))
    return {"TEAM_INACTIVE_IN_PEC": 1}


def edit_team_only(pec: Pec, cf) -> dict[str, int]:
    _, pid, uid, cid, _ = _some(pec, ACTIVE_LOT + "ORDER BY 1 LIMIT 1")
    tid = pec.one("INSERT INTO tb_equipe (nu_ine, no_equipe, co_unidade_saude, st_ativo) "
                  "VALUES ('0000999998', 'EQUIPE MANUAL', %s, 1) RETURNING co_seq_equipe",
                  (uid,))
    with pec.conn() as c:
        add_lotacao(c, pid, uid, cid, tid)
    return {"TEAM_ONLY_IN_PEC": 1, "LOTACAO_ONLY_IN_PEC": 1}


def _unit_of_file(cf) -> str:
    per_unit = cf.lotacoes["cnes"].value_counts()
    return min(cf.establishments["cnes"], key=lambda c: (-per_unit.get(c, 0), c))


def edit_unit_missing(pec: Pec, cf) -> dict[str, int]:
    """Imported from an export without the unit: its teams and lotações neither."""
    cnes = _unit_of_file(cf)
    lot = cf.lotacoes[cf.lotacoes["cnes"] == cnes]
    held = cf.teams[(cf.teams["cnes"] == cnes) & ~cf.teams["ativa"]]
    lot = lot[~lot["ine"].isin(held["ine"])]
    return {"UNIT_MISSING_IN_PEC": 1, "LOTACAO_MISSING_IN_PEC": len(lot)}


def edit_unit_inactive(pec: Pec, cf) -> dict[str, int]:
    """The unit deactivated in PEC (as an import of an export without it does)."""
    pec.sql("UPDATE tb_unidade_saude SET st_ativo = 0 WHERE nu_cnes = %s", (_unit_of_file(cf),))
    return {"UNIT_INACTIVE_IN_PEC": 1}


def edit_unit_only(pec: Pec, cf) -> dict[str, int]:
    uid = pec.one("INSERT INTO tb_unidade_saude (nu_cnes, no_unidade_saude, st_ativo) VALUES "
                  "(%s, 'UBS DE OUTRO MUNICIPIO', 1) RETURNING co_seq_unidade_saude",
                  (NEW_CNES,))
    _, pid, _, cid, _ = _some(pec, ACTIVE_LOT + "ORDER BY 1 LIMIT 1")
    with pec.conn() as c:
        add_lotacao(c, pid, uid, cid)
    return {"UNIT_ONLY_IN_PEC": 1}


# name -> (what the import leaves out, given the file; the edit afterwards)
EDITS = {
    "PROFESSIONAL_MISSING_IN_PEC": (lambda cf: {"without_cpfs": [_first_cpf(cf)]},
                                    edit_professional_missing),
    "PROFESSIONAL_ONLY_IN_PEC": (None, edit_professional_only),
    "CNS_MISMATCH": (None, edit_cns),
    "LOTACAO_MISSING_IN_PEC": (None, edit_lotacao_missing),
    "LOTACAO_ONLY_IN_PEC": (None, edit_lotacao_only),
    "LOTACAO_MISMATCH:cbo": (None, edit_lotacao_cbo),
    "LOTACAO_MISMATCH:equipe": (None, edit_lotacao_team),
    "LOTACAO_MISMATCH:unidade": (None, edit_lotacao_unit),
    "TEAM_MISSING_IN_PEC": (lambda cf: {"without_teams": [_team_of_file(cf)]},
                            edit_team_missing),
    "TEAM_INACTIVE_IN_PEC": (None, edit_team_inactive),
    "TEAM_ONLY_IN_PEC": (None, edit_team_only),
    "UNIT_MISSING_IN_PEC": (lambda cf: {"without_cnes": [_unit_of_file(cf)]},
                            edit_unit_missing),
    "UNIT_INACTIVE_IN_PEC": (None, edit_unit_inactive),
    "UNIT_ONLY_IN_PEC": (None, edit_unit_only),
}


def test_every_kind_has_an_edit():
    covered = {k.split(":")[0] for k in EDITS} | {"NOT_IMPORTED"}
    assert covered == set(KINDS)


@pytest.mark.parametrize("name", list(EDITS))
def test_edit_produces_kind(name, make_pec, cf, xml_file):
    leave_out, edit = EDITS[name]
    pec = make_pec(cf, leave_out(cf) if leave_out else None)
    expected = edit(pec, cf)
    report = run(pec, cf, xml_file)
    assert counts_of(report) == expected
    assert report.exit_code == 1 and report.status == "diferencas"
    assert pec.one("SELECT count(*) FROM tb_lotacao") == \
        pec.one("SELECT count(*) FROM tb_ator_papel")      # a subclass row per papel
    kind = name.split(":")[0]
    rows = report.differences[report.differences["kind"] == kind]
    assert (rows["severity"] == KINDS[kind].severity).all()
    for cpf in rows["cpf"].dropna():
        assert CPF_MASK.fullmatch(cpf)
    for cns in [*rows["cns_xml"].dropna(), *rows["cns_pec"].dropna()]:
        assert CNS_MASK.fullmatch(cns)
    if name == "LOTACAO_MISMATCH:cbo":
        assert rows["cbo_pec"].notna().all() and "com o CBO" in rows["message"].iloc[0]
    if name == "LOTACAO_MISMATCH:equipe":
        assert "sem equipe" in rows["message"].iloc[0]
    if name == "LOTACAO_MISMATCH:unidade":
        assert rows["cnes_pec"].notna().all() and "na unidade" in rows["message"].iloc[0]
    if kind == "UNIT_ONLY_IN_PEC":
        assert rows["cnes_pec"].tolist() == [NEW_CNES]
    if kind in ("UNIT_INACTIVE_IN_PEC", "TEAM_INACTIVE_IN_PEC"):
        assert "desativada no PEC" in rows["message"].iloc[0]
        assert rows["line"].notna().all()


def test_inactive_unit_then_import_again_agrees(imported, cf, xml_file):
    """An import of the same file re-activates a unit and a team PEC held deactivated."""
    edit_unit_inactive(imported, cf)
    edit_team_inactive(imported, cf)
    assert counts_of(run(imported, cf, xml_file)) == {"UNIT_INACTIVE_IN_PEC": 1,
                                                       "TEAM_INACTIVE_IN_PEC": 1}
    with imported.conn() as c:
        import_xml(c, cf)
    assert counts_of(run(imported, cf, xml_file)) == {}


def test_cns_and_cpf_masked_everywhere(make_pec, cf, xml_file, tmp_path):
    pec = make_pec(cf, {"without_cpfs": [_first_cpf(cf)]})
    edit_cns(pec, cf)
    edit_professional_only(pec, cf)
    report = run(pec, cf, xml_file)
    assert {"PROFESSIONAL_MISSING_IN_PEC", "CNS_MISMATCH",
            "PROFESSIONAL_ONLY_IN_PEC"} <= set(counts_of(report))
    report.write_json(tmp_path / "r.json")
    report.write_html(tmp_path / "r.html")
    blob = (tmp_path / "r.json").read_text() + (tmp_path / "r.html").read_text()
    raw = [*cf.professionals["cpf"], *cf.professionals["cns"], NEW_CPF, "898001000000005"]
    assert not [v for v in raw if v and v in blob]
    assert "Diferenças por tipo" in blob and "<svg" in blob


# --------------------------------------------------------------------------- the cap
def test_json_capped_per_kind_with_totals(imported, cf, xml_file, tmp_path):
    """Every difference is counted; at most ``limit`` of each kind are listed, and the JSON
    says how many were left out."""
    for aid, *_ in imported.sql(ACTIVE_LOT + "ORDER BY 1 LIMIT 5"):
        with imported.conn() as c:
            deactivate_lotacao(c, aid)
    edit_cns(imported, cf)
    report = run(imported, cf, xml_file, limit=2)
    assert report.counts["LOTACAO_MISSING_IN_PEC"] == 5 and report.counts["CNS_MISMATCH"] == 1
    assert report.omitted == {"LOTACAO_MISSING_IN_PEC": 3}
    assert report.errors == 5 and report.warnings == 1 and report.exit_code == 1
    report.write_json(tmp_path / "r.json")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert schema_errors(doc) == []
    assert doc["counts"]["LOTACAO_MISSING_IN_PEC"] == 5 and doc["errors"] == 5
    assert [d["kind"] for d in doc["differences"]].count("LOTACAO_MISSING_IN_PEC") == 2
    assert doc["limite_por_tipo"] == 2 and doc["omitidas"] == {"LOTACAO_MISSING_IN_PEC": 3}
    text = report.text()
    assert "e mais" not in text or "por tipo" in text
    full = run(imported, cf, xml_file, limit=None)
    assert full.omitted == {} and len(full.differences) == 6
    out = tmp_path / "cli.json"
    proc = run_cli("xml", "reconciliar", xml_file, "--db-url", imported.url, "--db-password-env",
                   "SENHA_TESTE", "--maximo-por-tipo", "2", "--json", out,
                   env={"SENHA_TESTE": imported.pg.esus_password})
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["omitidas"] == {"LOTACAO_MISSING_IN_PEC": 3} and doc["limite_por_tipo"] == 2
    assert "até 2 por tipo" in proc.stdout


# --------------------------------------------------------------------------- schema
def test_missing_column_is_pendente_naming_it(make_pec, cf, xml_file, tmp_path):
    pec = make_pec(omit=("tb_prof.nu_cns", "tb_ator_papel.st_ativo"))
    report = run(pec, cf, xml_file)
    assert report.status == "pendente" and report.exit_code == ExitCode.UNDECIDED
    assert report.missing == ["tb_prof.nu_cns", "tb_ator_papel.st_ativo"]
    assert report.pec["versao"] == "5.5.24" and len(report.differences) == 0
    out = tmp_path / "r.json"
    proc = run_cli("xml", "reconciliar", xml_file, "--db-url", pec.url, "--db-password-env",
                   "SENHA_TESTE", "--json", out, env={"SENHA_TESTE": pec.pg.esus_password})
    assert proc.returncode == 3, proc.stderr  # undecided: not the refused-input code
    assert "tb_prof.nu_cns" in proc.stderr and "tb_ator_papel.st_ativo" in proc.stderr
    assert "5.5.24" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    doc = json.loads(out.read_text())
    assert schema_errors(doc) == []
    assert doc["schema"] == SCHEMA and doc["status"] == "pendente"
    assert doc["pec"]["faltando"] == ["tb_prof.nu_cns", "tb_ator_papel.st_ativo"]
    assert doc["pec"]["layout"] is None
    assert doc["differences"] == []


def test_missing_table_is_pendente(make_pec, cf, xml_file):
    report = run(make_pec(omit=("tb_cbo",)), cf, xml_file)
    assert report.status == "pendente" and report.missing == ["tb_cbo (tabela)"]


def test_unsourced_old_layout_is_pendente(make_pec, cf, xml_file):
    """The 2017–2019 layout the issue describes (tb_lotacao.st_ativo, no tb_ator_papel) has
    no source the project can cite: it is not guessed at, it is pendente."""
    pec = make_pec(omit=("tb_ator_papel",))
    pec.sql("ALTER TABLE tb_lotacao ADD COLUMN st_ativo integer")   # the unsourced column
    report = run(pec, cf, xml_file)
    assert report.status == "pendente" and report.missing == ["tb_ator_papel (tabela)"]


@pytest.mark.parametrize("column, typ, found", [
    ("tb_lotacao.co_prof", "text", "text"),
    ("tb_ator_papel.st_ativo", "date", "date"),
    ("tb_cbo.co_cbo_2002", "bytea NOT NULL", "bytea"),
])
def test_incompatible_type_is_pendente_naming_it(make_pec, cf, xml_file, column, typ, found):
    """A column of a type the queries cannot use: pendente naming the column and the type
    found, never a raw SQL error telling the analyst to check the connection."""
    pec = make_pec(retype={column: typ})
    report = run(pec, cf, xml_file)
    assert report.status == "pendente" and report.exit_code == ExitCode.UNDECIDED
    assert report.missing == []
    assert len(report.wrong_types) == 1 and report.wrong_types[0].startswith(
        f"{column} com tipo {found} (esperado ")
    proc = run_cli("xml", "reconciliar", xml_file, "--db-url", pec.url, "--db-password-env",
                   "SENHA_TESTE", env={"SENHA_TESTE": pec.pg.esus_password})
    assert proc.returncode == 3, proc.stderr
    assert f"{column} com tipo {found}" in proc.stderr and "tipo incompatível" in proc.stderr
    assert "confira a conexão" not in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_boolean_flags_are_compatible(imported, cf, xml_file):
    imported.sql("ALTER TABLE tb_ator_papel ALTER COLUMN st_ativo TYPE boolean "
                 "USING st_ativo = 1")
    assert run(imported, cf, xml_file).status == "ok"


def test_fingerprint_follows_the_columns(make_pec, imported, cf, xml_file):
    other = make_pec(cf)
    other.sql("ALTER TABLE tb_prof ADD COLUMN no_social_profissional varchar(255)")
    a, b = run(imported, cf, xml_file), run(other, cf, xml_file)
    assert b.status == "ok" and b.pec["layout"] == LAYOUT
    assert a.pec["schema_fingerprint"] != b.pec["schema_fingerprint"]
    assert a.pec["schema_fingerprint"] == run(imported, cf, xml_file).pec["schema_fingerprint"]


def test_session_is_read_only_with_timeout(imported):
    before = imported.one("SELECT count(*) FROM tb_ator_papel WHERE st_ativo = 0")
    conn = open_readonly(imported.url, imported.password, statement_timeout_ms=4321)
    with conn:
        assert conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "4321ms"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("UPDATE tb_ator_papel SET st_ativo = 0")
    assert imported.one("SELECT count(*) FROM tb_ator_papel WHERE st_ativo = 0") == before


def test_user_without_select_is_refused_not_pendente(imported, cf, xml_file):
    """information_schema hides what a user may not read: that is a refused input naming
    the tables, not an "unknown schema"."""
    url = imported.pg.url(user="esus_scram", db=imported.name)
    with pytest.raises(InputError) as err:
        reconcile(xml_file, url, imported.password, cnes_file=cf)
    text = str(err.value)
    assert "não tem permissão de leitura" in text and "tb_prof" in text and "tb_lotacao" in text
    assert imported.pg.esus_password not in text


def test_statement_timeout_is_a_clean_error(imported):
    conn = open_readonly(imported.url, imported.password, statement_timeout_ms=50)
    with conn, pytest.raises(psycopg.errors.QueryCanceled) as err:
        conn.execute("SELECT pg_sleep(2)")
    problem = read_error(err.value, {"host": "127.0.0.1", "port": 5433}).problems[0]
    assert "não terminou a leitura" in problem.message and problem.file == "--db-url"


# --------------------------------------------------------------------------- CLI
def test_cli_agree_and_differences(imported, cf, xml_file, tmp_path):
    env = {"SENHA_TESTE": imported.pg.esus_password}
    args = ("xml", "reconciliar", xml_file, "--db-url", imported.url, "--db-password-env",
            "SENHA_TESTE")
    proc = run_cli(*args, "--ibge", "2927408", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "o PEC confere com o arquivo" in proc.stdout
    edit_cns(imported, cf)
    edit_lotacao_missing(imported, cf)
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    proc = run_cli(*args, "--json", out, "--html", html, env=env)
    assert proc.returncode == 1, proc.stderr
    assert "CNS_MISMATCH" in proc.stdout and "LOTACAO_MISSING_IN_PEC" in proc.stdout
    doc = json.loads(out.read_text())
    assert schema_errors(doc) == []
    assert schema_errors({**doc, "status": "talvez"}) != []
    assert doc["schema"] == SCHEMA and doc["status"] == "diferencas"
    assert set(doc) >= {"xml", "pec", "counts", "differences"}
    assert doc["pec"]["versao"] == "5.5.24" and doc["pec"]["schema_fingerprint"]
    assert doc["counts"]["CNS_MISMATCH"] == 1
    assert {d["kind"] for d in doc["differences"]} == {"CNS_MISMATCH", "LOTACAO_MISSING_IN_PEC"}
    assert all(set(d) == {"kind", "severity", "where", "message"} for d in doc["differences"])
    assert "Depois da importação" in html.read_text()
    blob = proc.stdout + proc.stderr + out.read_text() + html.read_text()
    assert imported.pg.esus_password not in blob


def test_cli_wrong_password_no_secret(imported, xml_file, tmp_path):
    wrong = "Errada-" + "x9Q" * 4
    out = tmp_path / "r.json"
    proc = run_cli("xml", "reconciliar", xml_file, "--db-url", imported.url,
                   "--db-password-env", "SENHA_TESTE", "--json", out,
                   env={"SENHA_TESTE": wrong})
    assert proc.returncode == 2
    assert "senha recusados" in proc.stderr and "Traceback" not in proc.stderr
    assert wrong not in proc.stdout + proc.stderr and not out.exists()
    secret = tmp_path / "senha"
    secret.write_text(wrong + "\n")
    secret.chmod(0o600)
    proc = run_cli("xml", "reconciliar", xml_file, "--db-url", imported.url,
                   "--db-password-file", secret)
    assert proc.returncode == 2 and wrong not in proc.stdout + proc.stderr


def test_cli_refused_connection(xml_file, closed_url, tmp_path):
    port = closed_url.rsplit(":", 1)[1].strip("/")
    proc = run_cli("xml", "reconciliar", xml_file, "--db-url",
                   f"postgresql://esus@127.0.0.1:{port}/esus", "--db-password-env", "SENHA",
                   env={"SENHA": "Segredo-De-Teste-123"})
    assert proc.returncode == 2
    assert "não aceita conexões" in proc.stderr and "Traceback" not in proc.stderr
    assert "Segredo-De-Teste-123" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("args, words", [
    (("--db-url", "postgresql://esus:segredo123@127.0.0.1/esus"), ("não pode conter senha",)),
    (("--db-url", "postgresql://esus@127.0.0.1/esus", "--ibge", "12"), ("--ibge",)),
    (("--db-url", "postgresql://esus@127.0.0.1/esus", "--json", "/"), ("--json", "pasta")),
])
def test_cli_bad_input_before_any_work(xml_file, args, words):
    proc = run_cli("xml", "reconciliar", xml_file, *args)
    assert proc.returncode == 2
    assert all(w in proc.stderr for w in words), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "segredo123" not in proc.stderr


def test_cli_output_is_never_an_input(xml_file, tmp_path):
    """The one output rule: ``--json``/``--html`` naming the XML or the password file is
    refused before any connection (the report would overwrite it)."""
    secret = tmp_path / "senha"
    secret.write_text("Segredo-De-Teste-123\n")
    secret.chmod(0o600)
    before = xml_file.read_bytes()
    for option, path in (("--json", xml_file), ("--html", secret)):
        proc = run_cli("xml", "reconciliar", xml_file, "--db-url",
                       "postgresql://esus@127.0.0.1:9/esus", "--db-password-file", secret,
                       option, path)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"{option}: o arquivo de saída é o próprio arquivo de entrada e seria sobrescrito "
            f"— informe em {option} outro nome"]
    assert xml_file.read_bytes() == before and secret.read_text() == "Segredo-De-Teste-123\n"


def test_cli_bad_file(tmp_path, imported):
    bad = tmp_path / "x.xml"
    bad.write_text("<ImportarXMLCNES><IDENTIFICACAO")
    proc = run_cli("xml", "reconciliar", bad, "--db-url", imported.url)
    assert proc.returncode == 2 and "x.xml" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_other_municipality(imported, xml_file):
    proc = run_cli("xml", "reconciliar", xml_file, "--db-url", imported.url, "--ibge", "3550308",
                   env={"PGPASSWORD": imported.pg.esus_password})
    assert proc.returncode == 2 and "3550308" in proc.stderr


# --------------------------------------------------------------------------- stage 6
def _site(tmp_path: Path, xml_file: Path, db_url: str | None) -> Path:
    inst = f"instalacao:\n  db_url: {db_url}\n  db_password_env: SENHA_PEC_TESTE\n" \
        if db_url else ""
    path = tmp_path / "site.yaml"
    path.write_text(f"site_id: ubs-teste\nnome: UBS Teste\nmunicipio_ibge: '2927408'\n"
                    f"cnes: '2386224'\n{inst}xml:\n  arquivo: {xml_file}\n", encoding="utf-8")
    return path


def _stage(site_file: Path, env: dict, run_dir: Path | None = None):
    return stages.evaluate("xml", load_site(site_file),
                           stages.StageContext(run_dir, env=env))


def _by_id(result):
    return {c.id: c for c in result.checks}


def test_stage_after_import(make_pec, cf, xml_file, tmp_path):
    pec = make_pec()
    env = {"SENHA_PEC_TESTE": pec.pg.esus_password}
    site_file = _site(tmp_path, xml_file, pec.url)
    before = _stage(site_file, env)
    checks = _by_id(before)
    assert checks["XML_PEC_IMPORTACAO"].status is Status.PENDENTE
    assert before.status is Status.PENDENTE
    with pec.conn() as c:
        import_xml(c, cf)
    after = _stage(site_file, env)
    assert _by_id(after)["XML_PEC_CONFERE"].status is Status.OK
    assert after.metrics["reconciliacao"]["situacao"] == "ok"
    edit_lotacao_only(pec, cf)
    warn = _stage(site_file, env)
    assert _by_id(warn)["XML_PEC_LOTACAO_ONLY_IN_PEC"].status is Status.ALERTA
    edit_unit_inactive(pec, cf)
    run_dir = tmp_path / "run"
    fail = _stage(site_file, env, run_dir / "ubs-teste")
    checks = _by_id(fail)
    assert checks["XML_PEC_UNIT_INACTIVE_IN_PEC"].status is Status.FALHA
    assert fail.status is Status.FALHA
    titles = [t for t, _ in stages.chart_svgs(fail)]
    assert any("Depois da importação" in t for t in titles)
    assert pec.pg.esus_password not in json.dumps(fail.to_dict(), default=str)
    # the site report shows the section, with the full list beside it
    site_dir = run_dir / "ubs-teste"
    fail.save(site_dir)
    write_json_atomic(site_dir / "site.json", load_site(site_file).to_json())
    html = render_site_report(site_dir).read_text(encoding="utf-8")
    assert "Depois da importação: o banco do PEC × o XML" in html
    assert "UNIT_INACTIVE_IN_PEC" in html and CPF_MASK.search(html)
    assert (site_dir / "xml_reconciliacao.html").exists()
    assert fail.metrics["reconciliacao"]["relatorio"] == "xml_reconciliacao.html"
    raw = [v for v in cf.professionals["cpf"] if v]
    assert not [v for v in raw if v in html]


def test_stage_without_db_url_has_no_section(xml_file, tmp_path):
    result = _stage(_site(tmp_path, xml_file, None), {})
    assert not [c for c in result.checks if c.id.startswith("XML_PEC")]
    assert "reconciliacao" not in result.metrics


def test_stage_schema_unknown_and_password_missing(make_pec, xml_file, tmp_path):
    pec = make_pec(omit=("tb_equipe.nu_ine",))
    site_file = _site(tmp_path, xml_file, pec.url)
    checks = _by_id(_stage(site_file, {"SENHA_PEC_TESTE": pec.pg.esus_password}))
    assert checks["XML_PEC_ESQUEMA"].status is Status.PENDENTE
    assert "tb_equipe.nu_ine" in checks["XML_PEC_ESQUEMA"].observed
    checks = _by_id(_stage(site_file, {}))
    assert checks["XML_PEC_CONEXAO"].status is Status.PENDENTE
    assert "SENHA_PEC_TESTE" in checks["XML_PEC_CONEXAO"].observed
    retyped = make_pec(retype={"tb_lotacao.co_equipe": "text"})
    checks = _by_id(_stage(_site(tmp_path, xml_file, retyped.url),
                           {"SENHA_PEC_TESTE": pec.pg.esus_password}))
    assert checks["XML_PEC_ESQUEMA"].status is Status.PENDENTE
    assert "tipo incompatível: tb_lotacao.co_equipe com tipo text" in \
        checks["XML_PEC_ESQUEMA"].observed


@pytest.mark.notebooks
def test_notebook_06_shows_after_import(make_pec, cf, xml_file, tmp_path, monkeypatch):
    """Notebook 06 under papermill (a real kernel) shows "Depois da importação" from the
    stage result; the password reaches the kernel only through its environment."""
    import papermill as pm

    from .support.project import NOTEBOOKS

    pec = make_pec(cf)
    edit_cns(pec, cf)
    monkeypatch.setenv("SENHA_PEC_TESTE", pec.pg.esus_password)
    site_file = _site(tmp_path, xml_file, pec.url)
    run_dir = tmp_path / "run"
    out = tmp_path / "06.ipynb"
    nb = pm.execute_notebook(str(NOTEBOOKS / "06_xml.ipynb"), str(out), kernel_name="esus-runbook",
                             parameters={"site_file": str(site_file), "run_dir": str(run_dir),
                                         "interactive": False},
                             cwd=str(NOTEBOOKS), progress_bar=False,
                             # a lost reply fails, never hangs the tier; late outputs are
                             # waited for, never dropped (batch.execution.IOPUB_DEADLINE)
                             execution_timeout=300, iopub_timeout=IOPUB_DEADLINE,
                             raise_on_iopub_timeout=True)
    text = out.read_text(encoding="utf-8")
    assert "Depois da importação: o banco do PEC × o XML" in text and "CNS_MISMATCH" in text
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
    assert pec.pg.esus_password not in text
    result = json.loads((run_dir / "ubs-teste" / "xml.json").read_text(encoding="utf-8"))
    assert result["metrics"]["reconciliacao"]["counts"]["CNS_MISMATCH"] == 1
    assert pec.pg.esus_password not in json.dumps(result)


def test_stage_after_import_through_the_servers_ssh_tunnel(make_pec, cf, xml_file, tmp_path,
                                                            sshd):
    """A site reached over SSH: PEC's database listens on the server's loopback only, and
    stage 6 reads it through a tunnel (``servidor.ssh`` + a localhost ``db_url``)."""
    pec = make_pec(cf)
    local = f"postgresql://esus@localhost:{pec.pg.port}/{pec.name}"
    site_file = _site(tmp_path, xml_file, local)
    with site_file.open("a", encoding="utf-8") as fh:
        fh.write(f"servidor:\n  ssh: {sshd.target()}\n  chave_ssh_file: {sshd.client_key}\n"
                 f"  known_hosts: {sshd.known_hosts()}\n")
    result = _stage(site_file, {"SENHA_PEC_TESTE": pec.pg.esus_password})
    assert _by_id(result)["XML_PEC_CONFERE"].status is Status.OK, [
        (c.id, c.observed) for c in result.checks]
    # an unknown host key: no tunnel, a falha that says so, and no verdict on the import
    (tmp_path / "vazio").write_text("", encoding="utf-8")
    text = site_file.read_text(encoding="utf-8").replace(str(sshd.known_hosts()),
                                                          str(tmp_path / "vazio"))
    site_file.write_text(text, encoding="utf-8")
    refused = _by_id(_stage(site_file, {"SENHA_PEC_TESTE": pec.pg.esus_password}))
    assert refused["XML_PEC_CONEXAO"].status is Status.FALHA
    assert "XML_PEC_CONFERE" not in refused


# --------------------------------------------------------------------------- deadline
# statement_timeout is the server's: a frozen server or a lost network never applies it. The
# client keeps its own deadline (esus_runbook.pec.ReadDeadline) and TCP keepalives.
def test_connection_carries_keepalives(imported):
    conn = open_readonly(imported.url, imported.password)
    with conn:
        opts = {o.keyword.decode(): (o.val or b"").decode() for o in conn.pgconn.info}
    assert opts["keepalives"] == "1" and opts["keepalives_idle"] == "10"
    assert opts["keepalives_interval"] == "5" and opts["keepalives_count"] == "3"
    assert opts["tcp_user_timeout"] == "30000"
    assert connection_options(110000).keys() == {"keepalives", "keepalives_idle",
                                                  "keepalives_interval", "keepalives_count"}


def _no_sleeper_left(pec: Pec) -> bool:
    return not pec.sql("SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' "
                       "AND pid <> pg_backend_pid()")


def test_read_that_never_ends_is_cancelled(imported):
    """A read the server never ends (statement_timeout off): cancelled at the deadline, one
    pt-BR line, and the query no longer runs on the server."""
    conn = open_readonly(imported.url, imported.password, statement_timeout_ms=0)
    t0 = time.monotonic()
    with pytest.raises(InputError) as err, conn, \
            ReadDeadline(conn, 1.0, {"host": "127.0.0.1", "port": imported.pg.port}):
        conn.execute("SELECT pg_sleep(600)")
    elapsed = time.monotonic() - t0
    assert 1.0 <= elapsed < 1.0 + 2 * CANCEL_GRACE_S, elapsed
    text = str(err.value)
    assert "não respondeu em 1 s" in text and "cancelada" in text and "\n" not in text
    assert err.value.problems[0].file == "--db-url"
    assert _no_sleeper_left(imported)


def test_reconcile_deadline_on_a_read_that_never_ends(make_pec, cf, xml_file, tmp_path):
    """The whole reconciliation under the client's deadline: tb_prof that never answers
    (a view over pg_sleep, the server's statement_timeout far away) ends in InputError at
    the deadline, and the query no longer runs on the server."""
    pec = make_pec(cf)
    pec.sql("ALTER TABLE tb_prof RENAME TO tb_prof_dados")
    pec.sql("CREATE VIEW tb_prof AS SELECT d.* FROM tb_prof_dados d, "
            "(SELECT pg_sleep(600)) s")
    t0 = time.monotonic()
    with pytest.raises(InputError) as err:
        run(pec, cf, xml_file, deadline=2.0)
    assert time.monotonic() - t0 < 2.0 + 2 * CANCEL_GRACE_S + 10   # + parse and connect
    assert "não respondeu em 2 s" in str(err.value)
    assert _no_sleeper_left(pec)


def test_verify_install_database_deadline(pec_db, postgres):
    """verify-install's reads have the same deadline (3× --timeout)."""
    name = pec_db()
    with postgres.connect(name, user="esus", password=postgres.esus_password) as c:
        c.execute("ALTER TABLE tb_config_sistema RENAME TO tb_config_dados")
        c.execute("CREATE VIEW tb_config_sistema AS SELECT d.* FROM tb_config_dados d, "
                  "(SELECT pg_sleep(600)) s")
    r = VerifyReport("http://127.0.0.1:8080")
    t0 = time.monotonic()
    check_database(r, postgres.url(db=name), Secret(postgres.esus_password, "teste"),
                   "5.5.24", None, None, None, timeout=1.0)
    assert time.monotonic() - t0 < 3.0 + 2 * CANCEL_GRACE_S + 5
    check = {c.id: c for c in r.checks}["DB_CONEXAO"]
    assert check.status is Status.FALHA and "não respondeu em 3 s" in check.observed


def _cluster_pids(pg) -> list[int]:
    """The postmaster of ``pg`` and its children (from /proc)."""
    master = int((pg.root / "data" / "postmaster.pid").read_text().split()[0])
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            kids.append(int(stat.parent.name))
    return [master, *kids]


@pytest.mark.postgres   # a PostgreSQL cluster of its own: frozen here, never the shared one
@pytest.mark.parametrize("freeze", ["backend", "cluster"])
def test_frozen_server_ends_within_the_deadline(freeze, capfd):
    """SIGSTOP on the backend (the cancel request is accepted but never acted on) or on the
    whole cluster (the cancel request itself hangs): the read still ends at the deadline
    plus the grace periods, with the pt-BR line, because the socket is shut down."""
    from .support.servers import _start_postgres, _stop_postgres

    pg = _start_postgres()
    frozen: list[int] = []
    try:
        conn = connect(pg.url(db="postgres"), Secret(pg.esus_password, "teste"), timeout=5,
                       application_name="teste")
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        frozen = [backend] if freeze == "backend" else _cluster_pids(pg)
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        t0 = time.monotonic()
        with pytest.raises(InputError) as err, \
                ReadDeadline(conn, 1.0, {"host": "127.0.0.1", "port": pg.port}, grace=1.0), \
                conn:
            conn.execute("SELECT 1")
        elapsed = time.monotonic() - t0
        assert 1.0 <= elapsed < 1.0 + 2 * 1.0 + 2, elapsed
        assert "não respondeu em 1 s" in str(err.value) and "Traceback" not in str(err.value)
        assert conn.closed or conn.broken
        assert capfd.readouterr().err == ""     # nothing else reaches the terminal
    finally:
        for pid in frozen:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        _stop_postgres(pg)
