"""The CNES XML parser: layout, encodings, versions, normalization, and refusals of hostile
or broken files (fast, with bounded memory, nothing leaking into messages)."""

from __future__ import annotations

import io
import re
import resource
import time
import zipfile
from pathlib import Path

import pytest

from esus_runbook.cnes.parser import parse
from esus_runbook.demo import cnes_xml as synth
from esus_runbook.errors import HostileFileError, InputError

from .support.project import run_cli

HEADER = ('<?xml version="1.0" encoding="{enc}"?>\n<ImportarXMLCNES>\n'
          '<IDENTIFICACAO DATA="2026-11-20" ORIGEM="PORTAL" DESTINO="ESUS_AB" '
          'CO_IBGE_MUN="2927408" VERSAO_XSD="{ver}">\n')


def small_xml(enc="ISO-8859-1", ver="3.1", body="") -> bytes:
    text = (HEADER.format(enc=enc, ver=ver) +
            '<ESTABELECIMENTOS><DADOS_GERAIS_ESTABELECIMENTOS NM_FANTA=" UBS SÃO JOÃO " '
            'CNPJ="11222333000181" CNES=" 238622 " TP_UNID_ID="02" DS_TP_UNID="UBS">\n'
            '<ENDERECO><DADOS_ENDERECO SG_UF="BA" CO_IBGE_MUN="2927408"/></ENDERECO>\n'
            '<EQUIPES><DADOS_EQUIPES TP_EQUIPE="70" CO_INE="123456" DT_DESATIVACAO=" "/>'
            '<DADOS_EQUIPES TP_EQUIPE="71" CO_INE="0000000019" DT_DESATIVACAO="01/02/2026"/>'
            '</EQUIPES>\n</DADOS_GERAIS_ESTABELECIMENTOS></ESTABELECIMENTOS>\n<PROFISSIONAIS>\n'
            '<DADOS_PROFISSIONAIS NM_PROF="CONCEIÇÃO D\'ÁVILA" CPF_PROF=" 52998224725 " '
            'CO_CNS="898001160660004">\n<ENDERECO/>\n<LOTACOES>\n'
            '<DADOS_LOTACOES CNES="238622" CO_INE="123456" CO_CBO="2241e1" MICROAREA=" "/>\n'
            '<DADOS_LOTACOES CNES="0238622" CO_INE="" CO_CBO="225142"/>\n'
            '</LOTACOES></DADOS_PROFISSIONAIS>\n' + body +
            '</PROFISSIONAIS>\n</IDENTIFICACAO>\n</ImportarXMLCNES>\n')
    return text.encode(enc)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def zip_of(tmp_path: Path, name: str, members: dict[str, bytes]) -> Path:
    p = tmp_path / name
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return p


@pytest.mark.parametrize("enc", ["ISO-8859-1", "UTF-8"])
def test_layout_encodings_trim_and_padding(tmp_path, enc):
    cf = parse(write(tmp_path, "a.xml", small_xml(enc)), names=True)
    assert cf.header["VERSAO_XSD"] == "3.1" and cf.ibge == "2927408"
    assert cf.source.encoding == enc
    e = cf.establishments.iloc[0]
    assert e["nome"] == "UBS SÃO JOÃO" and e["cnes"] == "0238622" and e["ibge"] == "2927408"
    assert cf.teams["ine"].tolist() == ["0000123456", "0000000019"]
    assert cf.teams["cnes"].tolist() == ["0238622", "0238622"]
    assert cf.teams["ativa"].tolist() == [True, False]
    p = cf.professionals.iloc[0]
    assert p["cpf"] == "52998224725" and p["nome"] == "CONCEIÇÃO D'ÁVILA" and p["line"] == 9
    lot = cf.lotacoes
    assert lot["cnes"].tolist() == ["0238622", "0238622"]
    assert lot["ine"].tolist() == ["0000123456", ""]
    assert lot["cbo"].tolist() == ["2241E1", "225142"]
    assert lot["line"].tolist() == [12, 13] and lot["prof"].tolist() == [0, 0]
    assert "nome" not in parse(write(tmp_path, "b.xml", small_xml(enc))).professionals


@pytest.mark.parametrize("ver", ["2.1", "3.0", "3.1"])
def test_versions_from_generator(tmp_path, ver):
    path = synth.write_file(synth.Spec(professionals=60, version=ver), tmp_path / "v.zip")
    cf = parse(path)
    assert cf.version == ver and len(cf.professionals) == 60
    assert cf.source.container == "zip" and cf.source.member.endswith(".xml")


def test_generator_file_is_clean_and_large_file_streams(tmp_path):
    path = synth.write_file(synth.Spec(professionals=3000, encoding="UTF-8"), tmp_path / "g.xml")
    cf = parse(path)
    assert len(cf.professionals) == 3000
    assert cf.professionals["cpf"].is_unique and cf.professionals["cns"].is_unique
    assert (cf.lotacoes.groupby("prof").size() > 1).any()


def _refused(path, exc=InputError) -> str:
    t = time.perf_counter()
    with pytest.raises(exc) as info:
        parse(path)
    assert time.perf_counter() - t < 5
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       b'<ImportarXMLCNES><IDENTIFICACAO VERSAO_XSD="&xxe;"/></ImportarXMLCNES>')
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">' +
          b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                   for i in range(1, 10)) +
          b']>\n<ImportarXMLCNES><IDENTIFICACAO DATA="&lol9;"/></ImportarXMLCNES>')


def test_refuses_doctype_xxe_and_billion_laughs(tmp_path):
    for name, data in (("xxe.xml", XXE), ("laughs.xml", LAUGHS),
                       ("dtd.xml", b'<?xml version="1.0"?><!DOCTYPE ImportarXMLCNES SYSTEM '
                                   b'"http://127.0.0.1:9/x.dtd"><ImportarXMLCNES/>')):
        msg = _refused(write(tmp_path, name, data), HostileFileError)
        assert "DOCTYPE" in msg and "passwd" not in msg and "root:" not in msg
    # inside a ZIP too
    msg = _refused(zip_of(tmp_path, "xxe.zip", {"a.xml": XXE}), HostileFileError)
    assert "DOCTYPE" in msg


def test_refuses_zip_bomb_quickly(tmp_path):
    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("bomb.xml", "w") as out:
        out.write(small_xml()[:200])
        chunk = b" " * (1 << 20)
        for _ in range(300):                       # 300 MB of spaces → ~300 KB compressed
            out.write(chunk)
    assert p.stat().st_size < 2_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    msg = _refused(p, HostileFileError)
    assert "bomba" in msg
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KB


def test_refuses_zip_with_lying_sizes(tmp_path):
    """A member whose header under-declares its size: zipfile stops at the declared size and
    the CRC fails; never more bytes than declared are decompressed."""
    p = zip_of(tmp_path, "liar.zip", {"a.xml": small_xml()})
    raw = bytearray(p.read_bytes())
    # patch the central directory's uncompressed size of the only member to 10 bytes
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    p.write_bytes(bytes(raw))
    _refused(p)


@pytest.mark.parametrize("members,needle", [
    ({"a.xml": small_xml(), "b.xml": small_xml()}, "exatamente um"),
    ({"leia.txt": b"oi"}, "exatamente um"),
    ({}, "exatamente um"),
])
def test_refuses_not_exactly_one_xml(tmp_path, members, needle):
    assert needle in _refused(zip_of(tmp_path, "n.zip", members))


@pytest.mark.parametrize("name", ["../../etc/cron.d/x.xml", "/abs/a.xml", "C:/win/a.xml",
                                  "ok/../../a.xml"])
def test_refuses_zip_slip_names(tmp_path, name):
    msg = _refused(zip_of(tmp_path, "slip.zip", {name: small_xml()}), HostileFileError)
    assert "zip-slip" in msg


def test_refuses_broken_files(tmp_path):
    full = small_xml()
    assert "truncado" in _refused(write(tmp_path, "t.xml", full[: len(full) // 2]))
    assert "linha" in _refused(write(tmp_path, "t.xml", full[: len(full) // 2]))
    bad = full.replace(b"<ENDERECO/>", b"<ENDERECO>")
    msg = _refused(write(tmp_path, "m.xml", bad))
    assert "malformado" in msg and "linha 1" in msg   # the line of the mismatch is named
    assert "vazio" in _refused(write(tmp_path, "e.xml", b""))
    assert "vazio" in _refused(write(tmp_path, "w.xml", b"   \n  "))
    assert "não é um arquivo XML" in _refused(write(tmp_path, "x.xml", b"%PDF-1.4 ..."))
    assert "não é um arquivo XML" in _refused(write(tmp_path, "c.xml", b"CNES;CPF\n1;2\n"))
    assert "ZIP corrompido" in _refused(write(tmp_path, "z.zip",
                                              zip_of(tmp_path, "ok.zip", {"a.xml": full})
                                              .read_bytes()[:300]))
    assert "UTF-16" in _refused(write(tmp_path, "u.xml", full.decode("latin-1")
                                      .encode("utf-16")))
    _refused(write(tmp_path, "d.xml", b'<?xml version="1.0" encoding="EBCDIC-US"?><a/>'))
    assert "não encontrado" in _refused(tmp_path / "nao-existe.zip")


def test_malformed_line_number(tmp_path):
    lines = small_xml().decode("latin-1").splitlines()
    lines[10] = lines[10].replace("<LOTACOES>", "<LOTACOES")
    msg = _refused(write(tmp_path, "m.xml", "\n".join(lines).encode("latin-1")))
    assert "linha 11" in msg or "linha 12" in msg, msg


def test_refuses_wrong_root(tmp_path):
    scnes = (b'<?xml version="1.0" encoding="UTF-8"?>\n<ImportarXMLSCNES><Cabecalho/>'
             b'</ImportarXMLSCNES>')
    msg = _refused(write(tmp_path, "s.xml", scnes))
    assert "ImportarXMLSCNES" in msg and "SCNES" in msg
    assert "raiz" in _refused(write(tmp_path, "h.xml", b"<html><body/></html>"))


def test_refused_message_does_not_leak_identifiers(tmp_path):
    data = small_xml().replace(b'CO_CNS="898001160660004">', b'CO_CNS="898001160660004" <')
    msg = _refused(write(tmp_path, "leak.xml", data))
    assert "52998224725" not in msg and "898001160660004" not in msg


def test_cli_refusal_is_one_line_exit_2(tmp_path):
    p = write(tmp_path, "xxe.xml", XXE)
    out = tmp_path / "out.json"
    proc = run_cli("xml", "auditar", p, "--json", out, "--html", tmp_path / "out.html")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "DOCTYPE" in proc.stderr and not out.exists()
    assert not list(tmp_path.glob(".*tmp"))


def test_deep_nesting_refused_with_bounded_memory(tmp_path):
    deep = (HEADER.format(enc="UTF-8", ver="3.1") + "<a>" * 5000 + "</a>" * 5000 +
            "</IDENTIFICACAO></ImportarXMLCNES>").encode()
    msg = _refused(write(tmp_path, "deep.xml", deep))
    assert "linha" in msg


def test_bytes_stream_roundtrip_matches_file(tmp_path):
    spec = synth.Spec(professionals=50)
    buf = io.BytesIO()
    synth.write_xml(spec, buf)
    path = synth.write_file(spec, tmp_path / "a.xml")
    assert path.read_bytes() == buf.getvalue()


# --------------------------------------------------------------------------- structure
def _lines(text: str, needle: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), 1) if needle in line]


@pytest.mark.parametrize("ver", ["2.1", "3.0", "3.1"])
def test_generator_files_follow_the_structure(tmp_path, ver):
    path = synth.write_file(synth.Spec(professionals=1500, version=ver), tmp_path / "v.xml")
    assert parse(path).structure == []
    assert parse(write(tmp_path, "s.xml", small_xml(ver=ver))).structure == []


def test_identificacao_closed_early_is_a_structure_error(tmp_path):
    """A real file whose IDENTIFICACAO is closed before ESTABELECIMENTOS: the data are all
    read, but PEC's XSD refuses the file (issue 22)."""
    text = synth.write_file(synth.Spec(professionals=2500), tmp_path / "ok.xml") \
        .read_bytes().decode("latin-1")
    start = text.index("<IDENTIFICACAO")
    end = text.index(">", start)
    broken = text[:end] + "/" + text[end:]
    broken = broken.replace("</IDENTIFICACAO>", "", 1)
    cf = parse(write(tmp_path, "early.xml", broken.encode("latin-1")))
    assert len(cf.professionals) == 2500 and len(cf.establishments) > 0
    found = {(v.line, v.message) for v in cf.structure}
    est = _lines(broken, "<ESTABELECIMENTOS>")[0]
    prof = _lines(broken, "<PROFISSIONAIS>")[0]
    assert (est, "<ESTABELECIMENTOS> dentro de <ImportarXMLCNES>; o lugar dele é dentro de "
                 "<IDENTIFICACAO>") in found
    assert (prof, "<PROFISSIONAIS> dentro de <ImportarXMLCNES>; o lugar dele é dentro de "
                  "<IDENTIFICACAO>") in found
    assert {v.line for v in cf.structure} == {est, est + 1, prof}
    # the CLI refuses it: errors, exit 1, never "pode ser importado"
    proc = run_cli("xml", "audit", str(tmp_path / "early.xml"), "--ibge", "2927408")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "STRUCTURE_INVALID" in proc.stdout and "pode ser importado" not in proc.stdout


def test_structure_violations_with_lines(tmp_path):
    base = synth.write_file(synth.Spec(professionals=1500), tmp_path / "ok.xml") \
        .read_bytes().decode("latin-1")
    first_est = base.index("<DADOS_GERAIS_ESTABELECIMENTOS")
    addr = base.index("<ENDERECO>", first_est)
    compl = base.index("<COMPLEXIDADE>", first_est)
    compl_end = base.index("</COMPLEXIDADE>", first_est) + len("</COMPLEXIDADE>")
    swapped = base[:addr] + base[compl:compl_end] + "\n" + base[addr:compl] + base[compl_end:]
    # the 1300th professional: beyond the first purge of read professionals
    prof = [i for i in range(len(base)) if base.startswith("<DADOS_PROFISSIONAIS", i)][1299]
    cases = {
        "ordem": (swapped, "<ENDERECO> fora de ordem dentro de <DADOS_GERAIS_ESTABELECIMENTOS> "
                           "(a ordem é <ENDERECO>, <COMPLEXIDADE>, <EQUIPES>)"),
        "desconhecido": (base.replace("<LOTACOES>", "<LOTACOES><X/>", 1),
                         "elemento <X> desconhecido dentro de <LOTACOES>"),
        "atributo": (base.replace(' CO_CBO="', ' CO_CBX="', 1),
                     "<DADOS_LOTACOES> sem o atributo obrigatório CO_CBO"),
        "cpf": (base.replace(' CPF_PROF="', ' CPF_PROFX="', 1),
                "<DADOS_PROFISSIONAIS> sem o atributo obrigatório CPF_PROF"),
        "entre-profissionais": (base[:prof] + "<FOO/>" + base[prof:],
                                "elemento <FOO> desconhecido dentro de <PROFISSIONAIS>"),
        "repetido": (base.replace("<ENDERECO/>", "<ENDERECO/><ENDERECO/>", 1),
                     "<ENDERECO> repetido dentro de <DADOS_PROFISSIONAIS> (no máximo 1)"),
        "embrulho": (base.replace("</LOTACOES>", '<FOO><DADOS_LOTACOES CNES="2386224" '
                                  'CO_CBO="225142"/></FOO></LOTACOES>', 1),
                     "elemento <FOO> desconhecido dentro de <LOTACOES>"),
        "lotacao-com-filho": (re.sub(r"(<DADOS_LOTACOES [^>]*?)/>", r"\1><X/></DADOS_LOTACOES>",
                                     base, count=1),
                              "elemento <X> desconhecido dentro de <DADOS_LOTACOES>"),
        "lotacao-no-endereco": (base.replace("<ENDERECO/>", '<ENDERECO><DADOS_LOTACOES CNES='
                                             '"2386224" CO_CBO="225142"/></ENDERECO>', 1),
                                "<DADOS_LOTACOES> dentro de <ENDERECO>; o lugar dele é dentro "
                                "de <LOTACOES>"),
    }
    for name, (text, message) in cases.items():
        cf = parse(write(tmp_path, f"{name}.xml", text.encode("latin-1")))
        assert [v.message for v in cf.structure] == [message], name
        needle = {"ordem": "<ENDERECO>", "desconhecido": "<X/>", "atributo": "CO_CBX",
                  "embrulho": "<FOO>", "lotacao-com-filho": "<X/>",
                  "cpf": "CPF_PROFX", "entre-profissionais": "<FOO/>",
                  "repetido": "<ENDERECO/><ENDERECO/>",
                  "lotacao-no-endereco": "<ENDERECO><DADOS_LOTACOES"}[name]
        assert cf.structure[0].line == _lines(text, needle)[0], name
        assert len(cf.professionals) == 1500, name


def test_home_care_links_exist_only_from_layout_30(tmp_path):
    team = ('<DADOS_EQUIPES TP_EQUIPE="71" CO_INE="0000000019" DT_DESATIVACAO=" ">'
            '<VINCULACOES_EQUIPES><DADOS_VINCULACAO_EQUIPE INE_EQUIPE_VINCULADA="0000123456"/>'
            '</VINCULACOES_EQUIPES></DADOS_EQUIPES>')
    for ver, expected in (("3.1", []), ("3.0", []),
                          ("2.1", ["<VINCULACOES_EQUIPES> não existe no layout 2.1 (só em "
                                   "3.0, 3.1)", "<DADOS_VINCULACAO_EQUIPE> não existe no "
                                   "layout 2.1 (só em 3.0, 3.1)"])):
        data = small_xml(ver=ver).replace(
            b'<DADOS_EQUIPES TP_EQUIPE="71" CO_INE="0000000019" DT_DESATIVACAO="01/02/2026"/>',
            team.encode())
        cf = parse(write(tmp_path, f"v{ver}.xml", data))
        assert [v.message for v in cf.structure] == expected, ver
        assert cf.teams["ine"].tolist() == ["0000123456", "0000000019"]
