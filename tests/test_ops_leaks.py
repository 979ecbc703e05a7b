"""The outputs after go-live leak nothing (the patterns of tests/test_leaks.py): the database
password (right and wrong), the scratch PostgreSQL's password, the keystore password in
ssl.properties and the backup's contents (a marked row, a CPF and a CNS of the dump) appear in
no file of the executions folder (records, catalog, dossier, painel) nor on the terminal."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from esus_runbook.demo.rollout_history import SiteSpec, write_run_folder
from esus_runbook.results import STAGES

from .support.leaks import secret_needles, variants
from .support.upkeep import CONTENT_MARKER, TARGET, backup_folder, update_site


def test_ops_outputs_never_show_secrets_or_backup_contents(tmp_path, postgres, pec, installer,
                                                          dumps, http_server, cli_main):
    from esus_runbook.demo.pec_simulator import PecConfig

    backup_folder(tmp_path, dumps, "good")
    sim = http_server(PecConfig(versao="5.5.24"))
    data = update_site(tmp_path, postgres, pec[0], sim.url)
    keystore = "Keystore-Senha-9d1e55"
    Path(data["atualizacao"]["ssl_properties"]).write_text(
        f"server.ssl.key-store-password={keystore}\n")
    scratch = f"postgresql://postgres@{postgres.host}:{postgres.port}/postgres"
    site = tmp_path / "site.yaml"
    at = data["atualizacao"]
    site.write_text(f"""site_id: ubs-leak
nome: UBS Vazamento
municipio_ibge: "2927408"
cenario:
  backup_automatizado: true
instalador:
  versao: {TARGET}
  arquivo: {installer[0]}
instalacao:
  pec_url: {sim.url}
  db_url: {pec[0]}
  db_password_env: PEC_DB_SENHA_TESTE
backup:
  pasta: {data['backup']['pasta']}
  padrao: "esus-*.backup"
  janela_horas: 26
  pg_restore: {data['backup']['pg_restore']}
  restaurar_em: {scratch}
  restaurar_senha_env: PG_RESTAURO_SENHA
atualizacao:
  pasta_pec: {at['pasta_pec']}
  ssl_properties: {at['ssl_properties']}
  log_pec: {at['log_pec']}
""", encoding="utf-8")
    out = tmp_path / "execucoes"
    ok = {s: [(f"{s.upper()}_BASE", f"Base de {s}", "ok")] for s in STAGES}
    write_run_folder(out, "20260901-090000-leak", datetime(2026, 9, 1, 9, tzinfo=timezone.utc),
                     [SiteSpec("ubs-leak", "UBS Vazamento", stages=ok)])
    assert cli_main("catalogo", "importar", out).returncode == 0
    wrong = "Errada-" + postgres.esus_password[::-1]
    streams = []
    for password in (postgres.esus_password, wrong):
        env = {"PEC_DB_SENHA_TESTE": password, "PG_RESTAURO_SENHA": postgres.superuser_password}
        for args in (("backup", site, "--restaurar-teste"),
                     ("atualizacao", site, "--para", TARGET),
                     ("atualizacao", site, "--para", TARGET, "--fase", "depois")):
            proc = cli_main(*args, "--execucoes", out, env=env)
            assert proc.returncode in (0, 1, 3), proc.stderr
            streams += [proc.stdout, proc.stderr]
    assert cli_main("dossie", "ubs-leak", "--execucoes", out).returncode == 0
    assert cli_main("painel", "--execucoes", out).returncode == 0
    records = list((out / "operacoes").rglob("*.json"))
    assert len(records) == 6
    text = "".join(p.read_text(encoding="utf-8") for p in records)
    assert '"BKP_RESTAURACAO"' in text and "5.5.24" in text  # the restore really ran
    needles = set()
    for secret in (postgres.esus_password, wrong, postgres.superuser_password, keystore):
        needles |= secret_needles(secret)
    needles |= {CONTENT_MARKER.encode()} | variants(b"52998224725") | variants(
        b"898001160651806")
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".json", ".html", ".csv", ".sqlite"}
    leaks = [(str(f.relative_to(out)), n) for f in files for n in needles
             if n in f.read_bytes()]
    assert leaks == []
    for stream in streams:
        assert not any(n.decode() in stream for n in needles)
