"""The published site JSON Schema and ``check`` agree on a corpus of site files.

Each case is a complete site file (a small base plus one change) written as an analyst
would type it; the test reads it as an editor's YAML language server does, validates it
with the schema and runs ``sites.load_sites`` (what ``check``, ``run`` and ``batch`` use),
and the two verdicts must be equal. A few cases the schema cannot express (a check digit, an
impossible date, a URL's parts) are listed apart: there ``check`` is stricter, never looser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esus_runbook import schemas
from esus_runbook.errors import InputError
from esus_runbook.sites.loading import load_sites, read_mapping_file

BASE = """\
site_id: ubs-corpus
nome: UBS Corpus
municipio_ibge: "2927408"
"""

# (id, extra text appended to BASE or replacing it when it starts with "site_id", valid?)
CORPUS: list[tuple[str, str, bool]] = [
    ("minimo", "", True),
    ("ibge-sem-aspas", "site_id: ubs-corpus\nnome: UBS\nmunicipio_ibge: 2927408\n", True),
    ("cnes-7-digitos", 'cnes: "2386224"\n', True),
    ("cnes-sem-aspas", "cnes: 2386224\n", True),
    ("cnes-6-digitos", 'cnes: "238622"\n', False),
    ("cnes-letras", 'cnes: "23862AB"\n', False),
    ("ibge-6-digitos", "site_id: ubs-corpus\nnome: UBS\nmunicipio_ibge: \"292740\"\n", False),
    ("ibge-6-digitos-sem-aspas", "site_id: ubs-corpus\nnome: UBS\nmunicipio_ibge: 292740\n",
     False),
    ("site-id-maiusculas", "site_id: UBS-Centro\nnome: UBS\nmunicipio_ibge: \"2927408\"\n",
     False),
    ("site-id-espaco", "site_id: ubs centro\nnome: UBS\nmunicipio_ibge: \"2927408\"\n", False),
    ("sem-nome", "site_id: ubs-corpus\nmunicipio_ibge: \"2927408\"\n", False),
    ("chave-desconhecida", "nome_fantasia: UBS\n", False),
    ("secao-chave-desconhecida", "cenario:\n  usuarios: 3\n", False),
    ("tipo-com-acento", "cenario:\n  tipo_instalacao: Prontuário\n", True),
    ("tipo-maiusculas", "cenario:\n  tipo_instalacao: PRONTUARIO\n", True),
    ("tipo-com-espaco", "cenario:\n  tipo_instalacao: Centralizador municipal\n", True),
    ("tipo-com-hifen", "cenario:\n  tipo_instalacao: centralizador-estadual\n", True),
    ("tipo-errado", "cenario:\n  tipo_instalacao: hospital\n", False),
    ("plataforma-Linux", "instalador:\n  plataforma: Linux\n", True),
    ("plataforma-mac", "instalador:\n  plataforma: macos\n", False),
    ("modo-Treinamento", "instalacao:\n  modo: Treinamento\n", True),
    ("modo-Produção", "instalacao:\n  modo: Produção\n", True),
    ("bool-sim", "cenario:\n  internet_estavel: sim\n", True),
    ("bool-Nao", "cenario:\n  internet_estavel: Não\n", True),
    ("bool-nao", "cenario:\n  energia_estavel: nao\n", True),
    ("bool-S", "cenario:\n  equipe_ti: S\n", True),
    ("bool-n", "cenario:\n  equipe_ti: n\n", True),
    ("bool-yes", "cenario:\n  backup_automatizado: yes\n", True),
    ("bool-True", "cenario:\n  backup_automatizado: True\n", True),
    ("bool-FALSE", "servidor:\n  sudo: FALSE\n", True),
    ("bool-talvez", "cenario:\n  internet_estavel: talvez\n", False),
    ("bool-numero", "cenario:\n  internet_estavel: 1\n", False),
    ("int-texto", "cenario:\n  usuarios_simultaneos: muitos\n", False),
    ("int-zero", "cenario:\n  usuarios_simultaneos: 0\n", False),
    ("int-grande", "cenario:\n  usuarios_simultaneos: 100001\n", False),
    ("int-ok", "cenario:\n  usuarios_simultaneos: 40\n", True),
    ("int-fracao", "cenario:\n  usuarios_simultaneos: 2.5\n", False),
    ("float-ok", "cenario:\n  banda_mbps: 12.5\n", True),
    ("float-texto", "cenario:\n  banda_mbps: rapida\n", False),
    ("versao-ok", "instalador:\n  versao: 5.5.24\n", True),
    ("versao-curta", "instalador:\n  versao: 5.5\n", False),
    ("sha256-curto", "instalador:\n  sha256: abc123\n", False),
    ("sha256-ok", "instalador:\n  sha256: " + "a" * 64 + "\n", True),
    ("env-ok", "instalacao:\n  db_password_env: PEC_DB_SENHA\n", True),
    ("env-com-espaco", "instalacao:\n  db_password_env: minha senha\n", False),
    ("confirmacao-ok", "xml:\n  alteracoes_confirmadas: d5e7c2695b0d\n", True),
    ("confirmacao-maiusculas", "xml:\n  alteracoes_confirmadas: D5E7C2695B0D\n", False),
    ("data-ok", "instalacao:\n  data_instalacao: 2026-11-18\n", True),
    ("data-texto", "instalacao:\n  data_instalacao: ontem\n", False),
    ("secao-lista", "cenario:\n  - prontuario\n", False),
    ("secao-vazia", "cenario:\n", True),
    ("nome-numero", "site_id: ubs-corpus\nnome: 2024\nmunicipio_ibge: \"2927408\"\n", True),
    ("nome-booleano", "site_id: ubs-corpus\nnome: true\nmunicipio_ibge: \"2927408\"\n", False),
    ("porta-https", "instalacao:\n  https_porta: 70000\n", False),
    ("janela-backup", "backup:\n  janela_horas: 48\n", True),
]

# The schema accepts these forms; only code can tell them wrong (``check`` refuses them).
CHECK_ONLY: list[tuple[str, str]] = [
    ("ibge-digito-verificador", "site_id: ubs-corpus\nnome: UBS\nmunicipio_ibge: \"2927409\"\n"),
    ("data-inexistente", "instalacao:\n  data_instalacao: 2026-02-30\n"),
    ("url-sem-esquema", "instalacao:\n  pec_url: 10.0.0.5:8080\n"),
]


def _text(extra: str) -> str:
    return extra if extra.startswith("site_id") else BASE + extra


def _schema_ok(path: Path) -> bool:
    data = read_mapping_file(path)  # YAML 1.2, dates left as text: as an editor reads it
    return schemas.errors("site", json.loads(json.dumps(data, default=str))) == []


def _check_ok(path: Path) -> bool:
    try:
        load_sites(path)
    except InputError:
        return False
    return True


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 30
    assert sum(ok for *_, ok in CORPUS) >= 10 and sum(not ok for *_, ok in CORPUS) >= 10


@pytest.mark.parametrize("name,extra,valid", CORPUS, ids=[c[0] for c in CORPUS])
def test_schema_and_check_agree(tmp_path: Path, name: str, extra: str, valid: bool):
    site = tmp_path / f"{name}.yaml"
    site.write_text(_text(extra), encoding="utf-8")
    assert (_schema_ok(site), _check_ok(site)) == (valid, valid)


@pytest.mark.parametrize("name,extra", CHECK_ONLY, ids=[c[0] for c in CHECK_ONLY])
def test_check_is_stricter_only_where_the_schema_cannot_say(tmp_path: Path, name, extra):
    site = tmp_path / f"{name}.yaml"
    site.write_text(_text(extra), encoding="utf-8")
    assert _schema_ok(site) and not _check_ok(site)


def test_typed_values_are_normalised_on_load(tmp_path: Path):
    site = tmp_path / "s.yaml"
    site.write_text(BASE.replace('"2927408"', "2927408") + "cenario:\n  tipo_instalacao: "
                    "Prontuário\n  internet_estavel: sim\n  energia_estavel: Não\n"
                    "instalador:\n  plataforma: Linux\n", encoding="utf-8")
    (loaded,) = load_sites(site)
    assert loaded.data["municipio_ibge"] == "2927408"
    assert loaded.cenario["tipo_instalacao"] == "prontuario"
    assert loaded.cenario["internet_estavel"] is True
    assert loaded.cenario["energia_estavel"] is False
    assert loaded.instalador["plataforma"] == "linux"
