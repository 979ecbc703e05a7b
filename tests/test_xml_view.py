"""What notebook 06 shows below the xml stage's checks (esus_runbook.stages.xml_view), from a
real stage result over the demo's CNES files: the file's summaries, the comparison with
xml.anterior, PEC's database after the import; CPF masked, nothing re-read."""

from __future__ import annotations

import re

import IPython.display
import pytest

from esus_runbook import stages
from esus_runbook.results import StageResult
from esus_runbook.sites.loading import load_site
from esus_runbook.stages import xml_view

from .support.project import EXAMPLES

RAW_CPF = re.compile(r"(?<![\d*.])\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?!\d)")


@pytest.fixture
def shown(monkeypatch) -> list[str]:
    """The HTML each display call would put in the notebook."""
    out: list[str] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: out.append(obj.data))
    return out


@pytest.fixture(scope="module")
def result() -> StageResult:
    # ubs-vila-nova: the demo's file, with xml.anterior whose removals are not yet reviewed
    return stages.evaluate("xml", load_site(EXAMPLES / "sites" / "ubs-vila-nova.yaml"))


def test_summaries_show_the_counts_and_tables(result, shown):
    xml_view.show_summaries(result)
    c = result.metrics["xml"]["counts"]
    assert f"<b>{c['professionals']}</b> profissionais" in shown[0]
    headings = [re.search(r"<h4>(.*?)</h4>", h).group(1) for h in shown[1:]]
    assert headings[:2] == ["Equipes ativas por tipo (média de profissionais por família CBO)",
                            "Profissionais por categoria (família CBO)"]
    assert all("<table" in h for h in shown[1:])
    assert not any(RAW_CPF.search(h) for h in shown)


def test_changes_show_the_kinds_the_code_and_masked_examples(result, shown):
    xml_view.show_changes(result)
    diff = result.metrics["diff"]
    assert f'<code>xml.alteracoes_confirmadas: "{diff["codigo_confirmacao"]}"</code>' in shown[0]
    assert "PROFESSIONAL_REMOVED" in shown[0]
    assert any("<h4>Profissionais que perdem o acesso (até" in h for h in shown[1:])
    assert re.search(r"\*\*\*\.\d{3}\.\d{3}-\*\*", "".join(shown))
    assert not any(RAW_CPF.search(h) for h in shown)


def test_each_section_says_why_it_is_empty(shown):
    none = StageResult("s", "xml")
    xml_view.show_summaries(none)
    xml_view.show_changes(none)
    xml_view.show_after_import(none)
    assert "o XML não foi auditado" in shown[0]
    assert "<code>xml.anterior</code>" in shown[1]
    assert "<code>instalacao.db_url</code>" in shown[2]
    unread = StageResult("s", "xml", metrics={"diff": None, "reconciliacao": {"situacao": "x"}})
    shown.clear()
    xml_view.show_changes(unread)
    xml_view.show_after_import(unread)
    assert "XML_ANTERIOR" in shown[0] and "XML_PEC_CONEXAO" in shown[1]
