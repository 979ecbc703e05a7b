"""The pieces every page shares, without a browser: dates in one stated zone (under
TZ=UTC and TZ=America/Bahia), plurals, municipality names, remedies with commands, the
site's "Próximos passos" and the dossier's consistency with the offset it stores."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import lxml.html
import pytest

from esus_runbook.catalog import connect
from esus_runbook.catalog.dossier import write_dossier
from esus_runbook.catalog.store import import_folders
from esus_runbook.demo.rollout_history import SiteSpec, write_run_folder
from esus_runbook.render.dates import when, zone_label
from esus_runbook.render.env import remedy
from esus_runbook.render.places import municipalities, municipality_name
from esus_runbook.render.words import plural
from esus_runbook.report.site import next_steps
from esus_runbook.results import STAGES, Check, StageResult
from esus_runbook.status import Status

BRT = timezone(timedelta(hours=-3))


@pytest.fixture(params=["UTC", "America/Bahia"])
def tz(request, monkeypatch):
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    from esus_runbook.render import dates

    dates._zone_name.cache_clear()
    yield request.param
    monkeypatch.undo()
    time.tzset()
    dates._zone_name.cache_clear()


def test_a_stored_time_is_shown_in_the_stated_zone_through_its_offset(tz):
    stored = "2026-09-07T18:35:00-03:00"  # 21:35 UTC
    shown = {"UTC": "07/09/2026 21:35", "America/Bahia": "07/09/2026 18:35"}[tz]
    assert when(stored) == shown
    assert when(datetime(2026, 9, 7, 21, 35, tzinfo=timezone.utc)) == shown
    assert zone_label() == {"UTC": "UTC", "America/Bahia": "America/Bahia (UTC−03:00)"}[tz]
    assert when(None) == "—" and when("") == "—" and when("nunca") == "nunca"


def test_the_dossier_does_not_contradict_itself(tz, tmp_path):
    """Stored at +00:00 by one machine and at -03:00 by another: the dossier shows both in
    one zone, so the first run comes before the moment the dossier was generated."""
    t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    ok = {s: [(f"{s.upper()}_A", "Verificação A", "ok")] for s in STAGES}
    write_run_folder(tmp_path, "20260901-090000-aaa0", t0, [SiteSpec("ubs-a", "UBS A",
                                                                     stages=ok)])
    write_run_folder(tmp_path, "20260902-090000-aaa1", (t0 + timedelta(hours=1))
                     .astimezone(BRT), [SiteSpec("ubs-a", "UBS A", stages=ok)])
    cat = tmp_path / "catalogo.sqlite"
    import_folders(sorted(p for p in tmp_path.iterdir() if p.is_dir()), cat)
    conn = connect(cat)
    doc = lxml.html.fromstring(write_dossier(conn, "ubs-a", tmp_path / "d.html")
                               .read_text(encoding="utf-8"))
    conn.close()
    meta = doc.xpath("string(//p[@class='meta'][2])")
    first = re.search(r"Primeira execução: (\d\d/\d\d/\d{4} \d\d:\d\d)", meta).group(1)
    made = re.search(r"Gerado em: (\d\d/\d\d/\d{4} \d\d:\d\d)", meta).group(1)
    parse = lambda s: datetime.strptime(s, "%d/%m/%Y %H:%M")  # noqa: E731
    assert parse(first) < parse(made)
    assert first == t0.astimezone().strftime("%d/%m/%Y %H:%M")
    assert f"Horários em {zone_label()}" in meta
    runs = [r.xpath("string(td[2])") for r in doc.xpath("//table[@id='execucoes']/tbody/tr")]
    assert [parse(r) for r in runs] == sorted(parse(r) for r in runs)
    assert runs[1] == (t0 + timedelta(hours=1)).astimezone().strftime("%d/%m/%Y %H:%M")


def test_plurals_follow_the_count():
    assert plural(1, "local") == "1 local" and plural(2, "local") == "2 locais"
    assert plural(0, "alteração") == "0 alterações" and plural(1, "profissional") == \
        "1 profissional"
    assert plural(1234, "erro") == "1.234 erros"
    assert plural(1, "está pronto", "estão prontos") == "1 está pronto"


def test_municipality_names_come_from_the_ibge_table():
    assert len(municipalities()) == 5570
    assert municipality_name("2927408") == "Salvador/BA"
    assert municipality_name(2304400) == "Fortaleza/CE"
    assert municipality_name("9999999") == "código IBGE 9999999"
    assert municipality_name(None) == "—"


def test_a_remedy_shows_code_and_copyable_commands_never_backticks():
    text = "Gere o locale: `sudo locale-gen pt_BR.UTF-8`; confira `locale`."
    inline = str(remedy(text))
    assert "`" not in inline and inline.count("<code>") == 2 and "<pre" not in inline
    blocks = str(remedy(text, blocks=True))
    assert blocks.count("<pre") == 1  # the command, not the bare name
    assert "<pre class=\"comando\"><code>sudo locale-gen pt_BR.UTF-8</code></pre>" in blocks
    assert "&lt;script&gt;" in str(remedy("`<script>`"))


def _result(stage: str, *checks: tuple[str, str, str | None]) -> StageResult:
    r = StageResult("ubs-a", stage)
    r.checks = [Check(cid, f"Título {cid}", Status(st), "e", "o", rem)
                for cid, st, rem in checks]
    r.finish()
    return r


def test_next_steps_put_failures_first_in_stage_order_and_one_remedy_once():
    locale = "Gere o locale pt_BR.UTF-8: `sudo locale-gen pt_BR.UTF-8`."
    results = {s: None for s in STAGES}
    results["cenario"] = _result("cenario", ("CEN_PERFIL", "alerta", "Revise o perfil."))
    results["ambiente"] = _result("ambiente", ("AMB_SONDAGEM", "pendente", "Rode a sondagem."),
                                  ("AMB_LOCALE", "falha", locale))
    results["download"] = _result("download", ("DL_ARQUIVO", "ok", None))
    results["instalacao"] = _result("instalacao", ("INST_PRE_LOCALE", "falha", locale),
                                    ("INST_RAM", "falha", "Aumente a memória."))
    steps = next_steps(results)
    assert [(s["status"], s["code"]) for s in steps][:4] == [
        ("falha", "AMB_LOCALE"), ("falha", "INST_RAM"), ("pendente", "AMB_SONDAGEM"),
        ("pendente", None)]  # contra_chave never ran
    assert [a["code"] for a in steps[0]["also"]] == ["INST_PRE_LOCALE"]
    assert steps[-1]["code"] == "CEN_PERFIL"  # alertas last
    assert sum(s["remedy"] == locale for s in steps) == 1


def test_dossie_todos_writes_every_site_and_refuses_mixed_options(tmp_path, cli_main):
    ok = {s: [(f"{s.upper()}_A", "Verificação A", "ok")] for s in STAGES}
    write_run_folder(tmp_path, "20260901-090000-aaa0", datetime(2026, 9, 1, 9, tzinfo=BRT),
                     [SiteSpec("ubs-a", "UBS A", stages=ok), SiteSpec("ubs-b", "UBS B")])
    assert cli_main("catalogo", "importar", tmp_path).returncode == 0
    proc = cli_main("dossie", "--todos", "--execucoes", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"Dossiê: {tmp_path / 'dossies' / 'ubs-a.html'}",
        f"Dossiê: {tmp_path / 'dossies' / 'ubs-b.html'}",
        f"2 dossiês gravados em {tmp_path / 'dossies'}"]
    for args, says in ((("--todos", "ubs-a"), "não os dois"), ((), "informe SITE_ID"),
                       (("--todos", "--pdf", tmp_path / "x.pdf"), "sem --out nem --pdf")):
        proc = cli_main("dossie", *args, "--execucoes", tmp_path)
        assert proc.returncode == 2 and says in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "x.pdf").exists()
