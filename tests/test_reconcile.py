"""``xml reconcile`` (issue 15) against the real PostgreSQL the tests start: a PEC-like schema,
the file imported like PEC does (tests/pec_import.py), then edits that produce every
difference kind; unknown schema → pendente; wrong password and refused connection → exit 2
without the secret; read-only session; the ``xml`` stage's "Depois da importação"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest

from esus_runbook import stages
from esus_runbook.cnes.parser import parse
from esus_runbook.demo import cnes_xml as synth
from esus_runbook.errors import InputError
from esus_runbook.reconcile import KINDS, SCHEMA, reconcile
from esus_runbook.reconcile.pecdb import open_readonly, read_error
from esus_runbook.report import render_site_report
from esus_runbook.results import Status, write_json_atomic
from esus_runbook.secret_refs import Secret
from esus_runbook.sites import load_site

from .conftest import ROOT, run_cli
from .pec_import import create_schema, import_xml

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
    def make(cf=None, **schema_kw) -> Pec:
        pec = Pec(postgres, pec_db())
        with pec.conn() as c:
            create_schema(c, **schema_kw)
            if cf is not None:
                import_xml(c, cf, name_column=schema_kw.get("name_column", "no_profissional"))
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


def run(pec: Pec, cf, xml_file):
    return reconcile(xml_file, pec.url, pec.password, cnes_file=cf)


# --------------------------------------------------------------------------- agreement
def test_clean_import_agrees(imported, cf, xml_file):
    report = run(imported, cf, xml_file)
    assert report.status == "ok" and report.exit_code == 0
    assert counts_of(report) == {}
    c = report.pec["counts"]
    lot = cf.lotacoes.merge(cf.professionals[["cpf"]], left_on="prof", right_index=True)
    assert c["lotacoes_do_xml"] == c["lotacoes_do_xml_no_pec"] == \
        len(lot.drop_duplicates(["cpf", "cnes", "ine", "cbo"]))
    assert c["professionals"] == cf.professionals["cpf"].nunique()
    assert report.pec["versao"] == "5.5.24"
    assert report.pec["schema_fingerprint"].startswith("sha256:")
    assert report.pec["colunas"]["tb_prof.nome"] == "no_profissional"


def test_import_again_after_changes_agrees(imported, cf, xml_file):
    """The importer really deactivates and re-activates: a lotação switched off by hand
    comes back when the same file is imported again."""
    imported.sql("UPDATE tb_lotacao SET st_ativo = 0 WHERE co_ator_papel IN "
                 "(SELECT co_ator_papel FROM tb_lotacao ORDER BY 1 LIMIT 3)")
    assert run(imported, cf, xml_file).counts["LOTACAO_MISSING_IN_PEC"] == 3
    with imported.conn() as c:
        import_xml(c, cf)
    assert counts_of(run(imported, cf, xml_file)) == {}


def test_identifiers_stored_as_numbers_or_padded_still_match(imported, cf, xml_file):
    """A CPF kept as a number loses its leading zeros; a CNES may carry spaces: the query
    normalizes both like the parser does, so nothing differs."""
    assert cf.professionals["cpf"].str.startswith("0").any()    # the case is exercised
    imported.sql("ALTER TABLE tb_prof ALTER COLUMN nu_cpf TYPE bigint USING nu_cpf::bigint")
    imported.sql("ALTER TABLE tb_unidade_saude ALTER COLUMN nu_cnes TYPE text")
    imported.sql("UPDATE tb_unidade_saude SET nu_cnes = ' ' || nu_cnes || ' '")
    report = run(imported, cf, xml_file)
    assert counts_of(report) == {} and report.status == "ok"


def test_not_imported(make_pec, cf, xml_file):
    report = run(make_pec(), cf, xml_file)
    assert counts_of(report) == {"NOT_IMPORTED": 1}
    assert report.not_imported and report.exit_code == 1
    assert "não foi importado" in report.differences["message"].iloc[0]


# --------------------------------------------------------------------------- every kind
def _some(pec: Pec, query: str):
    row = pec.sql(query)
    assert row, query
    return row[0]


def edit_professional_missing(pec: Pec, cf) -> dict[str, int]:
    pid, = _some(pec, "SELECT co_seq_prof FROM tb_prof ORDER BY co_seq_prof LIMIT 1")
    pec.sql("DELETE FROM tb_lotacao WHERE co_prof = %s", (pid,))
    pec.sql("DELETE FROM tb_prof WHERE co_seq_prof = %s", (pid,))
    return {"PROFESSIONAL_MISSING_IN_PEC": 1}


def edit_professional_only(pec: Pec, cf) -> dict[str, int]:
    pid = pec.one("INSERT INTO tb_prof (nu_cpf, nu_cns, no_profissional) VALUES (%s, %s, 'X') "
                  "RETURNING co_seq_prof", (NEW_CPF, "898001000000005"))
    uid, cid = _some(pec, "SELECT co_unidade_saude, co_cbo FROM tb_lotacao LIMIT 1")
    pec.sql("INSERT INTO tb_lotacao (co_prof, co_unidade_saude, co_cbo) VALUES (%s, %s, %s)",
            (pid, uid, cid))
    return {"PROFESSIONAL_ONLY_IN_PEC": 1}


def edit_cns(pec: Pec, cf) -> dict[str, int]:
    pec.sql("UPDATE tb_prof SET nu_cns = '898001000000005' WHERE co_seq_prof = "
            "(SELECT min(co_seq_prof) FROM tb_prof)")
    return {"CNS_MISMATCH": 1}


def edit_lotacao_missing(pec: Pec, cf) -> dict[str, int]:
    pec.sql("UPDATE tb_lotacao SET st_ativo = 0 WHERE co_ator_papel = "
            "(SELECT min(co_ator_papel) FROM tb_lotacao)")
    return {"LOTACAO_MISSING_IN_PEC": 1}


def _unused_cbo(pec: Pec, pid) -> int:
    return pec.one("SELECT min(co_cbo) FROM tb_cbo WHERE co_cbo NOT IN "
                   "(SELECT co_cbo FROM tb_lotacao WHERE co_prof = %s)", (pid,))


def edit_lotacao_only(pec: Pec, cf) -> dict[str, int]:
    pid, uid = _some(pec, "SELECT co_prof, co_unidade_saude FROM tb_lotacao ORDER BY 1 LIMIT 1")
    pec.sql("INSERT INTO tb_lotacao (co_prof, co_unidade_saude, co_cbo) VALUES (%s, %s, %s)",
            (pid, uid, _unused_cbo(pec, pid)))
    return {"LOTACAO_ONLY_IN_PEC": 1}


def edit_lotacao_cbo(pec: Pec, cf) -> dict[str, int]:
    lid, pid = _some(pec, "SELECT co_ator_papel, co_prof FROM tb_lotacao ORDER BY 1 LIMIT 1")
    pec.sql("UPDATE tb_lotacao SET co_cbo = %s WHERE co_ator_papel = %s",
            (_unused_cbo(pec, pid), lid))
    return {"LOTACAO_MISMATCH": 1}


def edit_lotacao_team(pec: Pec, cf) -> dict[str, int]:
    pec.sql("UPDATE tb_lotacao SET co_equipe = NULL WHERE co_ator_papel = (SELECT "
            "min(co_ator_papel) FROM tb_lotacao l WHERE co_equipe IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM tb_lotacao o WHERE o.co_prof = l.co_prof AND o.co_ator_papel <> "
            "l.co_ator_papel))")
    return {"LOTACAO_MISMATCH": 1}


def edit_lotacao_unit(pec: Pec, cf) -> dict[str, int]:
    lid, uid = _some(pec, "SELECT co_ator_papel, co_unidade_saude FROM tb_lotacao l WHERE NOT "
                          "EXISTS (SELECT 1 FROM tb_lotacao o WHERE o.co_prof = l.co_prof AND "
                          "o.co_ator_papel <> l.co_ator_papel) ORDER BY 1 LIMIT 1")
    other = pec.one("SELECT min(co_seq_unidade_saude) FROM tb_unidade_saude WHERE "
                    "co_seq_unidade_saude <> %s", (uid,))
    pec.sql("UPDATE tb_lotacao SET co_unidade_saude = %s, co_equipe = NULL WHERE "
            "co_ator_papel = %s", (other, lid))
    return {"LOTACAO_MISMATCH": 1}


def edit_team_missing(pec: Pec, cf) -> dict[str, int]:
    active = cf.teams[cf.teams["ativa"]]
    cnes, ine = active.iloc[0][["cnes", "ine"]]
    tid = pec.one("SELECT e.co_seq_equipe FROM tb_equipe e JOIN tb_unidade_saude u ON "
                  "u.co_seq_unidade_saude = e.co_unidade_saude WHERE u.nu_cnes = %s AND "
                  "e.nu_ine = %s", (cnes, ine))
    n = pec.one("SELECT count(*) FROM tb_lotacao WHERE co_equipe = %s AND st_ativo = 1", (tid,))
    pec.sql("DELETE FROM tb_lotacao WHERE co_equipe = %s", (tid,))
    pec.sql("DELETE FROM tb_equipe WHERE co_seq_equipe = %s", (tid,))
    return {"TEAM_MISSING_IN_PEC": 1, **({"LOTACAO_MISSING_IN_PEC": n} if n else {})}


def edit_team_only(pec: Pec, cf) -> dict[str, int]:
    pid, uid, cid = _some(pec, "SELECT co_prof, co_unidade_saude, co_cbo FROM tb_lotacao "
                               "ORDER BY 1 LIMIT 1")
    tid = pec.one("INSERT INTO tb_equipe (nu_ine, no_equipe, co_unidade_saude) VALUES "
                  "('0000999998', 'EQUIPE MANUAL', %s) RETURNING co_seq_equipe", (uid,))
    pec.sql("INSERT INTO tb_lotacao (co_prof, co_unidade_saude, co_cbo, co_equipe) VALUES "
            "(%s, %s, %s, %s)", (pid, uid, cid, tid))
    return {"TEAM_ONLY_IN_PEC": 1, "LOTACAO_ONLY_IN_PEC": 1}


def edit_unit_missing(pec: Pec, cf) -> dict[str, int]:
    per_unit = cf.lotacoes["cnes"].value_counts()
    cnes = min(cf.establishments["cnes"], key=lambda c: (per_unit.get(c, 0), c))
    uid = pec.one("SELECT co_seq_unidade_saude FROM tb_unidade_saude WHERE nu_cnes = %s",
                  (cnes,))
    n = pec.one("SELECT count(*) FROM tb_lotacao WHERE co_unidade_saude = %s AND st_ativo = 1",
                (uid,))
    pec.sql("DELETE FROM tb_lotacao WHERE co_unidade_saude = %s", (uid,))
    pec.sql("DELETE FROM tb_equipe WHERE co_unidade_saude = %s", (uid,))
    pec.sql("DELETE FROM tb_unidade_saude WHERE co_seq_unidade_saude = %s", (uid,))
    return {"UNIT_MISSING_IN_PEC": 1, **({"LOTACAO_MISSING_IN_PEC": n} if n else {})}


def edit_unit_only(pec: Pec, cf) -> dict[str, int]:
    uid = pec.one("INSERT INTO tb_unidade_saude (nu_cnes, no_unidade_saude) VALUES "
                  "(%s, 'UBS DE OUTRO MUNICIPIO') RETURNING co_seq_unidade_saude", (NEW_CNES,))
    pid, cid = _some(pec, "SELECT co_prof, co_cbo FROM tb_lotacao ORDER BY 1 LIMIT 1")
    pec.sql("INSERT INTO tb_lotacao (co_prof, co_unidade_saude, co_cbo) VALUES (%s, %s, %s)",
            (pid, uid, cid))
    return {"UNIT_ONLY_IN_PEC": 1}


EDITS = {
    "PROFESSIONAL_MISSING_IN_PEC": edit_professional_missing,
    "PROFESSIONAL_ONLY_IN_PEC": edit_professional_only,
    "CNS_MISMATCH": edit_cns,
    "LOTACAO_MISSING_IN_PEC": edit_lotacao_missing,
    "LOTACAO_ONLY_IN_PEC": edit_lotacao_only,
    "LOTACAO_MISMATCH:cbo": edit_lotacao_cbo,
    "LOTACAO_MISMATCH:equipe": edit_lotacao_team,
    "LOTACAO_MISMATCH:unidade": edit_lotacao_unit,
    "TEAM_MISSING_IN_PEC": edit_team_missing,
    "TEAM_ONLY_IN_PEC": edit_team_only,
    "UNIT_MISSING_IN_PEC": edit_unit_missing,
    "UNIT_ONLY_IN_PEC": edit_unit_only,
}


def test_every_kind_has_an_edit():
    covered = {k.split(":")[0] for k in EDITS} | {"NOT_IMPORTED"}
    assert covered == set(KINDS)


@pytest.mark.parametrize("name", list(EDITS))
def test_edit_produces_kind(name, imported, cf, xml_file):
    expected = EDITS[name](imported, cf)
    report = run(imported, cf, xml_file)
    assert counts_of(report) == expected
    assert report.exit_code == 1 and report.status == "diferencas"
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


def test_cns_and_cpf_masked_everywhere(imported, cf, xml_file, tmp_path):
    edit_cns(imported, cf)
    edit_professional_only(imported, cf)
    edit_professional_missing(imported, cf)
    report = run(imported, cf, xml_file)
    report.write_json(tmp_path / "r.json")
    report.write_html(tmp_path / "r.html")
    blob = (tmp_path / "r.json").read_text() + (tmp_path / "r.html").read_text()
    raw = [*cf.professionals["cpf"], *cf.professionals["cns"], NEW_CPF, "898001000000005"]
    assert not [v for v in raw if v and v in blob]
    assert "Diferenças por tipo" in blob and "<svg" in blob


# --------------------------------------------------------------------------- schema
def test_missing_column_is_pendente_naming_it(make_pec, cf, xml_file, tmp_path):
    pec = make_pec(omit=("tb_prof.nu_cns", "tb_lotacao.st_ativo"))
    report = run(pec, cf, xml_file)
    assert report.status == "pendente" and report.exit_code == 2
    assert report.missing == ["tb_prof.nu_cns", "tb_lotacao.st_ativo"]
    assert report.pec["versao"] == "5.5.24" and len(report.differences) == 0
    out = tmp_path / "r.json"
    proc = run_cli("xml", "reconciliar", xml_file, "--db-url", pec.url, "--db-password-env",
                   "SENHA_TESTE", "--json", out, env={"SENHA_TESTE": pec.pg.esus_password})
    assert proc.returncode == 2, proc.stderr
    assert "tb_prof.nu_cns" in proc.stderr and "tb_lotacao.st_ativo" in proc.stderr
    assert "5.5.24" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    doc = json.loads(out.read_text())
    assert schema_errors(doc) == []
    assert doc["schema"] == SCHEMA and doc["status"] == "pendente"
    assert doc["pec"]["faltando"] == ["tb_prof.nu_cns", "tb_lotacao.st_ativo"]
    assert doc["differences"] == []


def test_missing_table_is_pendente(make_pec, cf, xml_file):
    report = run(make_pec(omit=("tb_cbo",)), cf, xml_file)
    assert report.status == "pendente" and report.missing == ["tb_cbo (tabela)"]


def test_name_variant_and_fingerprint(make_pec, imported, cf, xml_file):
    other = make_pec(cf, name_column="no_civil_profissional", social_name=True)
    a, b = run(imported, cf, xml_file), run(other, cf, xml_file)
    assert b.status == "ok" and b.pec["colunas"]["tb_prof.nome"] == "no_civil_profissional"
    assert a.pec["schema_fingerprint"] != b.pec["schema_fingerprint"]
    assert a.pec["schema_fingerprint"] == run(imported, cf, xml_file).pec["schema_fingerprint"]


def test_session_is_read_only_with_timeout(imported):
    conn = open_readonly(imported.url, imported.password, statement_timeout_ms=4321)
    with conn:
        assert conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "4321ms"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("UPDATE tb_lotacao SET st_ativo = 0")
    assert imported.one("SELECT count(*) FROM tb_lotacao WHERE st_ativo = 0") == 0


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
    edit_professional_missing(pec, cf)
    run_dir = tmp_path / "run"
    fail = _stage(site_file, env, run_dir / "ubs-teste")
    checks = _by_id(fail)
    assert checks["XML_PEC_PROFESSIONAL_MISSING_IN_PEC"].status is Status.FALHA
    assert fail.status is Status.FALHA
    titles = [t for t, _ in stages.charts(fail)]
    assert any("Depois da importação" in t for t in titles)
    assert pec.pg.esus_password not in json.dumps(fail.to_dict(), default=str)
    # the site report shows the section, with the full list beside it
    site_dir = run_dir / "ubs-teste"
    fail.save(site_dir)
    write_json_atomic(site_dir / "site.json", load_site(site_file).to_json())
    html = render_site_report(site_dir).read_text(encoding="utf-8")
    assert "Depois da importação: o banco do PEC × o XML" in html
    assert "PROFESSIONAL_MISSING_IN_PEC" in html and CPF_MASK.search(html)
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


@pytest.mark.notebooks
def test_notebook_06_shows_after_import(make_pec, cf, xml_file, tmp_path, monkeypatch):
    """Notebook 06 under papermill (a real kernel) shows "Depois da importação" from the
    stage result; the password reaches the kernel only through its environment."""
    import papermill as pm

    from .conftest import NOTEBOOKS

    pec = make_pec(cf)
    edit_cns(pec, cf)
    monkeypatch.setenv("SENHA_PEC_TESTE", pec.pg.esus_password)
    site_file = _site(tmp_path, xml_file, pec.url)
    run_dir = tmp_path / "run"
    out = tmp_path / "06.ipynb"
    nb = pm.execute_notebook(str(NOTEBOOKS / "06_xml.ipynb"), str(out), kernel_name="esus-runbook",
                             parameters={"site_file": str(site_file), "run_dir": str(run_dir),
                                         "interactive": False},
                             cwd=str(NOTEBOOKS), progress_bar=False)
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
