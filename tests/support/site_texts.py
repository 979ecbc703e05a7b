"""Site-file texts and helpers shared by the form, guidance, notebook and lab tests."""

from __future__ import annotations

from pathlib import Path

COMMENTED = """\
# UBS Comentada — arquivo escrito à mão, com comentários que o formulário deve manter.
site_id: ubs-comentada   # não mude: é o nome da pasta dos resultados
nome: UBS Comentada
municipio_ibge: "2927408"  # Salvador
cnes: '2386224'
cenario:
  # respostas da reunião de 12/11 com a coordenação
  tipo_instalacao: prontuario
  usuarios_simultaneos: 30   # pico de segunda de manhã
  internet_estavel: true
  energia_estavel: true

# ---- ambiente: sondagem feita pela TI
ambiente:
  passmark: 6500

# ---- xml do CNES
xml:
  arquivo: xml/XmlParaESUS31_292740.zip  # baixado em 10/11
# fim do arquivo
"""


def comment_lines(text: str) -> list[str]:
    return [line.split("#", 1)[1].strip() for line in text.splitlines() if "#" in line]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
