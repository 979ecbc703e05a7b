"""Deterministic generator of realistic CNES XMLs (layout: docs/dominio.md, "XML do CNES").

Used for the demo files in ``examples/xml``, the tests (one file per rule, with
``inject``) and the benchmark (200 000 professionals, ~85 MB, written as a stream).
Teams look like a real export's: ``ID_TP_EQUIPE`` empty, ``TP_EQUIPE`` with the code,
``DS_EQUIPE`` with the catalogue's description (``data/team_types.csv``), and the root
names the schema ``ImportarXML_CNES.xsd``.
Identifiers are valid (CPF, CNS definitive and provisional, CNPJ, IBGE, CNES and INE with
their check digits), names carry accents, and the portal's placeholders are reproduced
(``DT_NASC=01/01/1900``, ``SEXO=N``, blank-but-present attributes). The same arguments
always give the same bytes.

Regenerate the demo files::

    python -m esus_runbook.demo.cnes_xml examples            # writes examples/xml/*.zip
    python -m esus_runbook.demo.cnes_xml file --professionals 200000 --out big.xml
    python -m esus_runbook.demo.cnes_xml pair --professionals 2000 --old a.zip --new b.zip \
        --changes professionals_removed=5,cns_changed=2,teams_deactivated=1

``Spec.changes`` (:class:`~.cnes_model.Changes`, applied by :mod:`.cnes_next_month`) turns
a file into its next (or previous) month with an exact number of changes of every kind
``xml diff`` reports; :func:`write_pair` writes both months and returns the counts the diff
must find.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import ids
from ..cnes.catalog import team_description
from .cnes_model import FIRST, LAST, OTHER_ROLES, ROLE, Changes, Model, Spec, bijective, cnss, cpfs
from .cnes_next_month import evolve

# Every rule the generator can trigger on purpose (MUNICIPALITY_MISMATCH depends on the
# municipality the file is checked against, not on the file).
INJECTABLE = ("VERSION_UNSUPPORTED", "IBGE_INVALID", "CNPJ_INVALID", "CNES_FORMAT", "CNES_DV",
              "INE_FORMAT", "INE_DV", "TEAM_DUPLICATE", "TEAM_TYPE_UNKNOWN", "CPF_INVALID",
              "CNS_INVALID", "PROFESSIONAL_DUPLICATE_CPF", "PROFESSIONAL_DUPLICATE_CNS",
              "PROFESSIONAL_NO_LOTACAO", "LOTACAO_UNKNOWN_CNES", "LOTACAO_UNKNOWN_TEAM",
              "LOTACAO_INACTIVE_TEAM", "CBO_FORMAT", "CBO_UNKNOWN", "TEAM_COMPOSITION",
              "UNIT_MUNICIPALITY_MISMATCH", "TEAM_DEACTIVATION_DATE_INVALID")
SCHEMA_LOCATION = "ImportarXML_CNES.xsd"
BAIRROS = ("CENTRO", "VILA NOVA", "LIBERDADE", "SÃO CAETANO", "ITAPUÃ", "PERIPERI",
           "CAJAZEIRAS", "PAU DA LIMA", "BROTAS", "SUSSUARANA", "PLATAFORMA", "LOBATO")
# (CBO, CONSELHO_ID) per role; council codes [M] docs/dominio.md
TEAM_ROLES = {"70": ["medico_esf", "enf_esf", "tec_esf", "acs", "acs", "acs", "acs"],
              "71": ["dent_esf", "asb_esf"], "76": ["medico", "enf"],
              "72": ["psi", "as", "nutri", "fisio"]}
OTHER_MUNICIPALITY = "2919207"   # Lauro de Freitas-BA: a valid code of another municipality


# --------------------------------------------------------------------------- model
def build(spec: Spec) -> Model:
    """The establishments, teams, professionals and lotações of ``spec`` (before writing)."""
    if spec.professionals < 20:
        raise ValueError("professionals must be at least 20")
    rng = np.random.default_rng(spec.seed)
    md = Model()
    n_ubs = max(1, len(spec.cnes), spec.professionals // 33)
    n_other = max(1, n_ubs // 8)
    cnes_codes: list[str] = list(spec.cnes)
    taken = set(cnes_codes)
    for b in bijective(n_ubs + n_other + 8, 900000, spec.seed + 1):
        code = ids.with_dv(f"{b + 100000:06d}", "cnes")
        if code not in taken:
            taken.add(code)
            cnes_codes.append(code)
    cnpj = spec.cnpj or ids.with_dv(f"{13927801 + spec.seed % 1000:08d}0001", "cnpj")
    ine_iter = iter(ids.with_dv(f"{b:09d}", "ine")
                    for b in bijective(5 * n_ubs + 16, 10**9, spec.seed + 2))
    roles: list[tuple[str, str, str]] = []        # (cnes, ine, role) team slots
    for u in range(n_ubs + n_other):
        code = cnes_codes[u]
        ubs = u < n_ubs
        bairro = BAIRROS[u % len(BAIRROS)]
        if u < len(spec.unit_names):
            nome = spec.unit_names[u]
        elif ubs:
            nome = f"USF {bairro} {u // len(BAIRROS) + 1}" if u % 3 else f"UBS {bairro}"
        else:
            nome = ("HOSPITAL MUNICIPAL " if u % 2 else "CAPS ") + bairro
        md.establishments.append({
            "NM_FANTA": nome, "CNPJ": cnpj, "CNES": code,
            "TP_UNID_ID": "02" if ubs else ("05" if u % 2 else "70"),
            "DS_TP_UNID": "CENTRO DE SAUDE/UNIDADE BASICA" if ubs else (
                "HOSPITAL GERAL" if u % 2 else "CENTRO DE ATENCAO PSICOSSOCIAL"),
            "CO_SUBTIPO_UNID": " ", "DS_SUBTIPO_UNID": " ", "TELEFONE1": "7133334444",
            "TELEFONE2": " ", "FAX": " ", "E_MAIL": " ",
            "_addr": {"CO_CEP": f"4{u % 10000:04d}000", "SG_UF": spec.uf,
                      "CO_IBGE_MUN": spec.ibge, "BAIRRO": bairro,
                      "LOGRADOURO": f"RUA {LAST[u % len(LAST)]}", "NUMERO": str(u + 1),
                      "COMPLEMENT": " ", "PONTO_REF": " "},
            "_compl": ["AB"] if ubs else ["AB", "MC"]})
        if not ubs:
            continue
        kinds = ["70"] * (1 + (u % 3 != 0)) + ["71"]
        if u % 4 == 1:
            kinds.append("76")
        if u % 5 == 2:
            kinds.append("72")
        for k, tp in enumerate(kinds):
            ine = next(ine_iter)
            sigla = {"70": "ESF", "71": "ESB", "76": "EAP", "72": "EMULTI"}[tp]
            md.teams.append({"cnes": code, "ID_TP_EQUIPE": " ", "TP_EQUIPE": tp,
                             "SG_EQUIPE": sigla, "DS_EQUIPE": team_description(tp),
                             "CO_INE": ine, "CO_AREA": f"{u * 10 + k + 1:04d}",
                             "DS_AREA": f"AREA {u * 10 + k + 1}",
                             "NM_REFERENCIA": f"{sigla} {bairro} {k + 1}",
                             "DT_DESATIVACAO": " "})
            roles.extend((code, ine, r) for r in TEAM_ROLES[tp])
    # drop whole teams from the end while their slots do not fit
    while len(roles) > spec.professionals * 0.8 and len(md.teams) > 1:
        last = md.teams.pop()
        roles = [r for r in roles if r[1] != last["CO_INE"]]
    n = spec.professionals
    unit_of_other = [cnes_codes[i] for i in range(n_ubs + n_other)]
    l_prof, l_cnes, l_ine, l_role = [], [], [], []
    for i in range(n):
        if i < len(roles):
            c, ine, role = roles[i]
        else:
            c = unit_of_other[(i * 7) % len(unit_of_other)]
            ine, role = "", OTHER_ROLES[i % len(OTHER_ROLES)]
        l_prof.append(i)
        l_cnes.append(c)
        l_ine.append(ine)
        l_role.append(role)
    # about 6% hold a second lotação (another unit, no team) — same CBO family
    second = rng.random(n) < 0.06
    for i in np.flatnonzero(second):
        role = l_role[i] if l_role[i] not in ("acs", "ace") else "adm"
        role = {"medico_esf": "medico", "enf_esf": "enf", "tec_esf": "tec",
                "dent_esf": "dent_esf", "asb_esf": "asb_esf"}.get(role, role)
        l_prof.append(int(i))
        l_cnes.append(unit_of_other[(int(i) * 13 + 5) % len(unit_of_other)])
        l_ine.append("")
        l_role.append(role)
    order = np.argsort(np.array(l_prof), kind="stable")
    cbo = np.array([ROLE[r][0] for r in l_role], dtype=object)
    md.lot = {"prof": np.array(l_prof)[order], "CNES": np.array(l_cnes, dtype=object)[order],
              "CO_INE": np.array(l_ine, dtype=object)[order], "CO_CBO": cbo[order],
              "MICROAREA": np.array([f"{p % 12 + 1:02d}" if r == "acs" else " "
                                     for p, r in zip(l_prof, l_role, strict=True)],
                                    dtype=object)[order]}
    first_role = {p: r for p, r in zip(l_prof[:n], l_role[:n], strict=True)}
    f_idx = rng.integers(0, len(FIRST), size=n)
    s1 = rng.integers(0, len(LAST), size=n)
    s2 = rng.integers(0, len(LAST), size=n)
    md.prof = {
        "NM_PROF": np.array([f"{FIRST[a]} {LAST[b]} {LAST[c]}" for a, b, c in
                             zip(f_idx, s1, s2, strict=True)], dtype=object),
        "CPF_PROF": cpfs(n, spec.seed),
        "CO_CNS": cnss(n, spec.seed, rng),
        "CONSELHO_ID": np.array([ROLE[first_role[i]][1] for i in range(n)], dtype=object),
        "NU_REGISTRO": np.array([f"{(i * 37 + 1000) % 999999:06d}"
                                 if ROLE[first_role[i]][1] else " " for i in range(n)],
                                dtype=object),
    }
    for t in md.teams[len(md.teams) - spec.inactive_teams:] if spec.inactive_teams else ():
        t["DT_DESATIVACAO"] = "30/06/2026"
    _inject(md, spec)
    if spec.changes is not None:
        md.expected = evolve(md, spec, spec.changes)
    return md


def _inject(md: Model, spec: Spec) -> None:
    """Apply the requested problems, each in the target unit where it has one."""
    if not spec.inject:
        return
    unknown = set(spec.inject) - set(INJECTABLE)
    if unknown:
        raise ValueError(f"cannot inject {sorted(unknown)}")
    target = spec.target or md.establishments[0]["CNES"]
    est = next(e for e in md.establishments if e["CNES"] == target)
    lot = md.lot
    in_target = np.flatnonzero(lot["CNES"] == target)
    # professionals whose only lotação is in the target unit (safe to alter one by one)
    counts = np.bincount(lot["prof"], minlength=len(md.prof["CPF_PROF"]))
    solo = [int(p) for p, ine in zip(lot["prof"][in_target], lot["CO_INE"][in_target],
                                     strict=True) if counts[p] == 1]
    no_team = {int(p) for p in lot["prof"][in_target][lot["CO_INE"][in_target] == ""]}
    # professionals outside teams first, so a rule does not also break a team's composition
    picks = iter(sorted(solo, key=lambda p: (p not in no_team, -p)))
    extra_est: list[dict] = []

    def extra_unit(code: str, **kw) -> None:
        e = {**est, "CNES": code, "NM_FANTA": f"UNIDADE {code}", "_compl": ["AB"], **kw}
        extra_est.append(e)

    def extra_team(**kw) -> None:
        base = {"cnes": target, "ID_TP_EQUIPE": " ", "TP_EQUIPE": "72", "SG_EQUIPE": "EMULTI",
                "DS_EQUIPE": team_description("72"), "CO_INE": ids.with_dv("777000001", "ine"),
                "CO_AREA": "0999", "DS_AREA": "AREA 999", "NM_REFERENCIA": "EMULTI EXTRA",
                "DT_DESATIVACAO": " "}
        md.teams.append({**base, **kw})

    for rule in spec.inject:
        if rule == "VERSION_UNSUPPORTED":
            continue                                  # applied when writing the header
        if rule == "IBGE_INVALID":
            good = spec.ibge
            est["_addr"] = {**est["_addr"], "CO_IBGE_MUN": good[:6] + str((int(good[6]) + 1) % 10)}
        elif rule == "UNIT_MUNICIPALITY_MISMATCH":
            est["_addr"] = {**est["_addr"], "CO_IBGE_MUN": OTHER_MUNICIPALITY}
        elif rule == "TEAM_DEACTIVATION_DATE_INVALID":
            extra_team(CO_INE=ids.with_dv("777000006", "ine"), DT_DESATIVACAO="2026-06-30")
        elif rule == "CNPJ_INVALID":
            c = est["CNPJ"]
            est["CNPJ"] = c[:13] + str((int(c[13]) + 1) % 10)
        elif rule == "CNES_FORMAT":
            extra_unit("23A6224")
        elif rule == "CNES_DV":
            good = ids.with_dv("555123", "cnes")
            extra_unit(good[:6] + str((int(good[6]) + 1) % 10))
        elif rule == "INE_FORMAT":
            extra_team(CO_INE="00001234X5")
        elif rule == "INE_DV":
            good = ids.with_dv("777000002", "ine")
            extra_team(CO_INE=good[:9] + str((int(good[9]) + 1) % 10))
        elif rule == "TEAM_DUPLICATE":
            extra_team(CO_INE=ids.with_dv("777000003", "ine"))
            extra_team(CO_INE=ids.with_dv("777000003", "ine"))
        elif rule == "TEAM_TYPE_UNKNOWN":
            extra_team(CO_INE=ids.with_dv("777000004", "ine"), TP_EQUIPE="99",
                       DS_EQUIPE="EQUIPE NOVA")
        elif rule == "CPF_INVALID":
            p = next(picks)
            c = md.prof["CPF_PROF"][p]
            md.prof["CPF_PROF"][p] = c[:10] + str((int(c[10]) + 1) % 10)
        elif rule == "CNS_INVALID":
            p = next(picks)
            c = md.prof["CO_CNS"][p]
            md.prof["CO_CNS"][p] = c[:14] + str((int(c[14]) + 1) % 10)
        elif rule == "PROFESSIONAL_DUPLICATE_CPF":
            a, b = next(picks), next(picks)
            md.prof["CPF_PROF"][b] = md.prof["CPF_PROF"][a]
        elif rule == "PROFESSIONAL_DUPLICATE_CNS":
            a, b = next(picks), next(picks)
            md.prof["CO_CNS"][b] = md.prof["CO_CNS"][a]
        elif rule == "PROFESSIONAL_NO_LOTACAO":
            p = next(picks)
            keep = lot["prof"] != p
            md.lot = lot = {k: v[keep] for k, v in lot.items()}
        elif rule == "LOTACAO_UNKNOWN_CNES":
            p = next(picks)
            i = int(np.flatnonzero(lot["prof"] == p)[0])
            lot["CNES"][i] = ids.with_dv("654321", "cnes")
            lot["CO_INE"][i] = ""
        elif rule == "LOTACAO_UNKNOWN_TEAM":
            p = next(picks)
            i = int(np.flatnonzero(lot["prof"] == p)[0])
            lot["CO_INE"][i] = ids.with_dv("888000001", "ine")
        elif rule == "LOTACAO_INACTIVE_TEAM":
            ine = ids.with_dv("777000005", "ine")
            extra_team(CO_INE=ine, DT_DESATIVACAO="30/06/2026")
            p = next(picks)
            i = int(np.flatnonzero(lot["prof"] == p)[0])
            lot["CO_INE"][i] = ine
            lot["CO_CBO"][i] = "251510"
        elif rule == "CBO_FORMAT":
            p = next(picks)
            i = int(np.flatnonzero(lot["prof"] == p)[0])
            lot["CO_CBO"][i] = "22514"
        elif rule == "CBO_UNKNOWN":
            p = next(picks)
            i = int(np.flatnonzero(lot["prof"] == p)[0])
            lot["CO_CBO"][i] = "2251ZZ"     # CBO-shaped, but no occupation has it
        elif rule == "TEAM_COMPOSITION":
            esf = next((t for t in md.teams if t["cnes"] == target and t["TP_EQUIPE"] == "70"),
                       None)
            if esf is None:
                raise ValueError("target unit has no eSF team")
            hit = (lot["CO_INE"] == esf["CO_INE"]) & (lot["CO_CBO"] == ROLE["enf_esf"][0])
            lot["CO_CBO"][hit] = ROLE["tec_esf"][0]
    md.establishments.extend(extra_est)


# --------------------------------------------------------------------------- writing
def _esc(v: str) -> str:
    return (v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _attrs(d: dict, keys: tuple[str, ...]) -> str:
    return " ".join(f'{k}="{_esc(str(d[k]))}"' for k in keys if k in d)


EST_KEYS = ("NM_FANTA", "CNPJ", "CNES", "TP_UNID_ID", "DS_TP_UNID", "CO_SUBTIPO_UNID",
            "DS_SUBTIPO_UNID", "TELEFONE1", "TELEFONE2", "FAX", "E_MAIL")
ADDR_KEYS = ("CO_CEP", "SG_UF", "CO_IBGE_MUN", "BAIRRO", "LOGRADOURO", "NUMERO", "COMPLEMENT",
             "PONTO_REF")
TEAM_KEYS = ("ID_TP_EQUIPE", "TP_EQUIPE", "SG_EQUIPE", "DS_EQUIPE", "CO_INE", "CO_AREA",
             "DS_AREA", "NM_REFERENCIA", "DT_DESATIVACAO")


def write_xml(spec: Spec, out: io.RawIOBase | io.BufferedIOBase, md: Model | None = None) -> int:
    """Write the XML of ``spec`` to a binary stream; returns the bytes written."""
    md = md or build(spec)
    enc = spec.encoding
    version = md.header.get("VERSAO_XSD") or (
        "2.0" if "VERSION_UNSUPPORTED" in spec.inject else spec.version)
    date = md.header.get("DATA", spec.date)
    ibge = md.header.get("CO_IBGE_MUN", spec.ibge)
    keys = EST_KEYS if version >= "3.0" else tuple(
        k for k in EST_KEYS if k not in ("CO_SUBTIPO_UNID", "DS_SUBTIPO_UNID"))
    written = 0
    buf: list[str] = []

    def flush() -> None:
        nonlocal written
        data = "".join(buf).encode(enc)
        out.write(data)
        written += len(data)
        buf.clear()

    buf.append(f'<?xml version="1.0" encoding="{enc}" standalone="yes"?>\n'
               '<ImportarXMLCNES xmlns:xs="http://www.w3.org/2001/XMLSchema-instance" '
               f'xs:noNamespaceSchemaLocation="{SCHEMA_LOCATION}">\n'
               f'  <IDENTIFICACAO DATA="{date}" ORIGEM="PORTAL" DESTINO="ESUS_AB" '
               f'CO_IBGE_MUN="{ibge}" VERSAO_XSD="{version}">\n'
               "    <ESTABELECIMENTOS>\n")
    teams_by_unit: dict[str, list[dict]] = {}
    for t in md.teams:
        teams_by_unit.setdefault(t["cnes"], []).append(t)
    for e in md.establishments:
        buf.append(f"      <DADOS_GERAIS_ESTABELECIMENTOS {_attrs(e, keys)}>\n"
                   f"        <ENDERECO>\n          <DADOS_ENDERECO {_attrs(e['_addr'], ADDR_KEYS)}/>\n"
                   "        </ENDERECO>\n        <COMPLEXIDADE>\n")
        buf.extend(f'          <DADOS_COMPLEXIDADE SG_COMPLEXIDADE="{c}"/>\n' for c in e["_compl"])
        buf.append("        </COMPLEXIDADE>\n")
        teams = teams_by_unit.get(e["CNES"], [])
        if teams:
            buf.append("        <EQUIPES>\n")
            buf.extend(f"          <DADOS_EQUIPES {_attrs(t, TEAM_KEYS)}/>\n" for t in teams)
            buf.append("        </EQUIPES>\n")
        buf.append("      </DADOS_GERAIS_ESTABELECIMENTOS>\n")
    buf.append("    </ESTABELECIMENTOS>\n    <PROFISSIONAIS>\n")
    flush()
    p = md.prof
    names, cpf, cns, cons, reg = (p["NM_PROF"], p["CPF_PROF"], p["CO_CNS"], p["CONSELHO_ID"],
                                  p["NU_REGISTRO"])
    lot = md.lot
    bounds = np.searchsorted(lot["prof"], np.arange(len(cpf) + 1))
    l_cnes, l_ine, l_cbo, l_micro = lot["CNES"], lot["CO_INE"], lot["CO_CBO"], lot["MICROAREA"]
    uf = spec.uf
    for i in range(len(cpf)):
        council = (f' CONSELHO_ID="{cons[i]}" SG_UF_EMIS="{uf}"' if cons[i] else "")
        buf.append(f'      <DADOS_PROFISSIONAIS NM_PROF="{_esc(names[i])}" CPF_PROF="{cpf[i]}" '
                   f'CO_CNS="{cns[i]}" DT_NASC="01/01/1900" SEXO="N"{council} '
                   f'NU_REGISTRO="{reg[i]}" E_MAIL=" " TELEFONE=" ">\n'
                   "        <ENDERECO/>\n        <LOTACOES>\n")
        for j in range(bounds[i], bounds[i + 1]):
            buf.append(f'          <DADOS_LOTACOES CNES="{l_cnes[j]}" CO_INE="{l_ine[j]}" '
                       f'CO_CBO="{l_cbo[j]}" MICROAREA="{l_micro[j]}"/>\n')
        buf.append("        </LOTACOES>\n      </DADOS_PROFISSIONAIS>\n")
        if len(buf) > 4000:
            flush()
    buf.append("    </PROFISSIONAIS>\n  </IDENTIFICACAO>\n</ImportarXMLCNES>\n")
    flush()
    return written


def member_name(spec: Spec) -> str:
    ch = spec.changes
    version = (ch.version if ch and ch.version else spec.version).replace(".", "")
    ibge = ch.ibge if ch and ch.ibge else spec.ibge
    return f"XmlParaESUS{version}_{ibge[:6]}.xml"


def write_file(spec: Spec, path: str | os.PathLike, *, as_zip: bool | None = None,
               md: Model | None = None) -> Path:
    """Write the XML (or a ZIP holding it, for a ``.zip`` path) atomically; deterministic
    bytes: fixed member name, timestamp, permissions and compression level. ``md`` is the
    already built model of ``spec``, if any."""
    path = Path(path)
    as_zip = path.suffix.lower() == ".zip" if as_zip is None else as_zip
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with tmp.open("wb") as fh:
            if as_zip:
                info = zipfile.ZipInfo(member_name(spec), date_time=(2026, 11, 20, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = 0o644 << 16
                with zipfile.ZipFile(fh, "w") as zf, \
                        zf.open(info, "w", force_zip64=spec.professionals > 1_000_000) as out:
                    write_xml(spec, out, md)
            else:
                write_xml(spec, fh, md)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_pair(spec: Spec, changes: Changes, old: str | os.PathLike,
               new: str | os.PathLike) -> dict[str, int]:
    """Write two months of the file of ``spec``: with ``changes.months > 0`` ``old`` is the
    file of ``spec`` and ``new`` the changed one; with ``months < 0`` ``old`` is the changed
    (previous) month and ``new`` the file of ``spec``. Returns the counts per change kind
    that ``diff(old, new)`` must find."""
    changed = replace(spec, changes=changes)
    md = build(changed)
    base, other = (old, new) if changes.months > 0 else (new, old)
    write_file(spec, base)
    write_file(changed, other, md=md)
    assert md.expected is not None
    return md.expected


# --------------------------------------------------------------------------- demo files
# The demo's previous month (``xml.anterior`` of the demo sites): what it lacks or holds in
# excess is what the current file changes, seen as diff(anterior, current): 3 professionals
# removed, 4 added, 1 CNS changed, 2 lotações removed and 2 added, 4 changed (+2 moved into
# a new team), a team removed, one added and one reactivated, a unit removed.
DEMO_PREVIOUS_MONTH = Changes(months=-1, professionals_added=3, professionals_removed=4,
                              cns_changed=1, lotacoes_added=2, lotacoes_removed=2,
                              lotacoes_team_changed=2, lotacoes_cbo_changed=1,
                              lotacoes_unit_changed=1, teams_added=1, teams_removed=1,
                              teams_deactivated=1, units_added=1, seed=11)


def demo_specs() -> dict[str, Spec]:
    """The demo files of ``examples/xml`` (Salvador-BA layout 3.1, units of the demo sites)."""
    base = Spec(ibge="2927408", uf="BA", professionals=320, seed=292740,
                cnes=("2386224", "2386232"), unit_names=("UBS CENTRO", "USF VILA NOVA"))
    problems = replace(base, target="2386232", inject=(
        "CPF_INVALID", "PROFESSIONAL_DUPLICATE_CNS", "LOTACAO_UNKNOWN_TEAM",
        "LOTACAO_INACTIVE_TEAM", "TEAM_COMPOSITION", "CBO_UNKNOWN", "PROFESSIONAL_NO_LOTACAO"))
    return {"XmlParaESUS31_292740.zip": base,
            "XmlParaESUS31_292740-com-problemas.zip": problems,
            "XmlParaESUS31_292740-anterior.zip": replace(base, changes=DEMO_PREVIOUS_MONTH)}


def write_demo(folder: str | os.PathLike) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_file(spec, folder / name) for name, spec in demo_specs().items()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m esus_runbook.demo.cnes_xml",
                                 description="Gera XMLs do CNES sintéticos e determinísticos.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("examples", help="regrava os ZIPs de demonstração")
    ex.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "examples" / "xml"))
    f = sub.add_parser("file", help="gera um arquivo (.xml ou .zip)")
    f.add_argument("--out", required=True)
    f.add_argument("--professionals", type=int, default=300)
    f.add_argument("--ibge", default="2927408")
    f.add_argument("--version", default="3.1", choices=("2.1", "3.0", "3.1"))
    f.add_argument("--encoding", default="ISO-8859-1", choices=("ISO-8859-1", "UTF-8"))
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--inject", default="", help="códigos de regra separados por vírgula")
    pr = sub.add_parser("pair", help="gera dois meses de um arquivo com alterações controladas")
    pr.add_argument("--old", required=True, help="arquivo do mês anterior (.xml ou .zip)")
    pr.add_argument("--new", required=True, help="arquivo do mês seguinte (.xml ou .zip)")
    pr.add_argument("--professionals", type=int, default=300)
    pr.add_argument("--ibge", default="2927408")
    pr.add_argument("--seed", type=int, default=0)
    pr.add_argument("--inactive-teams", type=int, default=0)
    pr.add_argument("--changes", default="",
                    help="alterações, ex.: professionals_removed=5,cns_changed=2,version=3.0")
    args = ap.parse_args(argv)
    if args.cmd == "pair":
        spec = Spec(ibge=args.ibge, professionals=args.professionals, seed=args.seed,
                    inactive_teams=args.inactive_teams)
        expected = write_pair(spec, Changes.parse(args.changes), args.old, args.new)
        print(" ".join(f"{k}={v}" for k, v in expected.items() if v))
        return 0
    if args.cmd == "examples":
        for p in write_demo(args.out):
            print(p)
        return 0
    spec = Spec(ibge=args.ibge, professionals=args.professionals, version=args.version,
                encoding=args.encoding, seed=args.seed,
                inject=tuple(x for x in args.inject.split(",") if x))
    print(write_file(spec, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
