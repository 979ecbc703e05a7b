"""Controlled changes between two months of a generated CNES file (for ``xml diff``).

:class:`~.cnes_model.Changes` lists how many changes of each sort to make; :func:`evolve` applies them to
a generated :class:`~.cnes_model.Model` and returns the counts a diff must find, per change kind
of :mod:`esus_runbook.cnes.diff`. Every count is exact: each operation picks its own professionals, teams
and units (a professional is touched by one operation at most) and the operations that
move people (a team or a unit leaving the file) count the lotações they move.

Used through :class:`~.cnes_model.Spec` (``Spec(..., changes=Changes(...))``) and
:func:`~.cnes_xml.write_pair`; ``months=-1`` makes the *previous* month of the base file (the
demo's ``xml.anterior``), and the returned counts are then those of ``diff(this, base)``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from .. import ids
from ..cnes.catalog import team_description
from .cnes_model import FIRST, LAST, OTHER_ROLES, ROLE, Changes, Model, Spec, bijective, cnss, cpfs

KINDS = ("PROFESSIONAL_REMOVED", "PROFESSIONAL_ADDED", "CNS_CHANGED", "LOTACAO_REMOVED",
         "LOTACAO_ADDED", "LOTACAO_CHANGED", "TEAM_ADDED", "TEAM_REMOVED", "TEAM_DEACTIVATED",
         "TEAM_REACTIVATED", "UNIT_ADDED", "UNIT_REMOVED", "VERSION_DOWNGRADE",
         "MUNICIPALITY_CHANGED")
INVERSE = {"PROFESSIONAL_REMOVED": "PROFESSIONAL_ADDED", "LOTACAO_REMOVED": "LOTACAO_ADDED",
           "TEAM_ADDED": "TEAM_REMOVED", "TEAM_DEACTIVATED": "TEAM_REACTIVATED",
           "UNIT_ADDED": "UNIT_REMOVED"}
INVERSE |= {v: k for k, v in INVERSE.items()}
# another occupation of the same family, in the CBO catalogue (occupation changes)
ALT_CBO = {"225125": "225170", "223505": "223545", "322205": "322230", "411010": "411005",
           "422105": "422110", "225124": "225170", "225250": "225170", "223405": "223405",
           "515140": "515140", "131210": "131210"}
ALT_CBO = {k: v for k, v in ALT_CBO.items() if k != v}
ACS = "515105"


def shifted_date(date: str, months: int) -> str:
    d = dt.date.fromisoformat(date)
    m = d.month - 1 + months
    return dt.date(d.year + m // 12, m % 12 + 1, min(d.day, 28)).isoformat()


class _Picker:
    """Disjoint, deterministic picks of professionals (rng order over a pool)."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.touched = np.zeros(n, dtype=bool)
        self.rng = rng

    def take(self, pool: np.ndarray, k: int, what: str) -> np.ndarray:
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        cand = np.flatnonzero(pool & ~self.touched)
        if len(cand) < k:
            raise ValueError(f"not enough {what} for {k} changes (have {len(cand)})")
        pick = np.sort(self.rng.permutation(cand)[:k])
        self.touched[pick] = True
        return pick


def _fresh(kind: str, count: int, taken: set[str], salt: int,
           rng: np.random.Generator) -> list[str]:
    """``count`` valid identifiers (cpf or cns) not in ``taken`` (which is updated)."""
    out: list[str] = []
    while len(out) < count:
        batch = cpfs(count * 2 + 8, salt) if kind == "cpf" else cnss(count * 2 + 8, salt, rng)
        for v in batch:
            if v not in taken:
                taken.add(v)
                out.append(v)
                if len(out) == count:
                    break
        salt += 7
    return out


def _fresh_codes(kind: str, count: int, taken: set[str], salt: int) -> list[str]:
    """``count`` CNES (kind 'cnes') or INE ('ine') codes with check digit, not in ``taken``."""
    width = 6 if kind == "cnes" else 9
    out: list[str] = []
    for b in bijective(count * 3 + 16, 10 ** width - 10 ** (width - 1), salt):
        code = ids.with_dv(f"{b + 10 ** (width - 1):0{width}d}", kind)
        if code not in taken:
            taken.add(code)
            out.append(code)
            if len(out) == count:
                return out
    raise ValueError(f"could not draw {count} new {kind} codes")


def evolve(md: Model, spec: Spec, ch: Changes) -> dict[str, int]:
    """Apply ``ch`` to ``md`` (in place); return the counts per change kind that
    ``diff(base, this)`` must find (``diff(this, base)`` when ``ch.months < 0``)."""
    rng = np.random.default_rng([spec.seed, ch.seed, 2026])
    exp = dict.fromkeys(KINDS, 0)
    lot = {k: v.copy() for k, v in md.lot.items()}
    prof = {k: v.copy() for k, v in md.prof.items()}
    n = len(prof["CPF_PROF"])
    n_lot = len(lot["prof"])
    counts = np.bincount(lot["prof"], minlength=n)
    first = np.searchsorted(lot["prof"], np.arange(n))
    first_ine = np.full(n, "", dtype=object)
    has = counts > 0
    first_ine[has] = lot["CO_INE"][first[has]]
    no_team_first = first_ine == ""
    solo_noteam = (counts == 1) & no_team_first
    solo_team = (counts == 1) & ~no_team_first
    second_free = np.zeros(n, dtype=bool)            # two lotações, the second outside teams
    two = np.flatnonzero(counts == 2)
    second_free[two] = lot["CO_INE"][first[two] + 1] == ""
    pick = _Picker(n, rng)
    drop_lot = np.zeros(n_lot, dtype=bool)
    drop_prof = np.zeros(n, dtype=bool)
    new_lots: list[tuple[int, str, str, str, str]] = []   # (prof, cnes, ine, cbo, micro)

    units = [e["CNES"] for e in md.establishments]
    team_units = {t["cnes"] for t in md.teams}

    def lots_of(p: int) -> range:
        return range(first[p], first[p] + counts[p])

    def other_unit(avoid: set[str], start: int, choices: list[str]) -> str:
        for i in range(len(choices)):
            c = choices[(start + i) % len(choices)]
            if c not in avoid:
                return c
        raise ValueError("not enough units to move a lotação")

    # -- units leaving: their lotações move to other units (no teams there) -------------
    if ch.units_removed:
        pool = [u for u in units if u not in team_units and u not in spec.cnes]
        if len(pool) < ch.units_removed:
            raise ValueError(f"not enough units without teams for {ch.units_removed} removals")
        gone = set(rng.permutation(pool)[:ch.units_removed].tolist())
        remaining = [u for u in units if u not in gone]
        for j in np.flatnonzero(np.isin(lot["CNES"], list(gone))):
            p = int(lot["prof"][j])
            avoid = {lot["CNES"][i] for i in lots_of(p) if i != j} | gone
            lot["CNES"][j] = other_unit(avoid, j * 7 + 3, remaining)
            pick.touched[p] = True
            exp["LOTACAO_CHANGED"] += 1
        md.establishments = [e for e in md.establishments if e["CNES"] not in gone]
        units = remaining
        exp["UNIT_REMOVED"] += len(gone)

    # -- teams leaving: members stay in the unit without team --------------------------
    removed_teams: set[tuple[str, str]] = set()
    touched_teams: set[tuple[str, str]] = set()
    if ch.teams_removed:
        members: dict[str, np.ndarray] = {}
        in_team = np.flatnonzero(lot["CO_INE"] != "")
        order = np.argsort(lot["CO_INE"][in_team], kind="stable")
        rows_sorted = in_team[order]
        ines = lot["CO_INE"][rows_sorted]
        bounds = np.flatnonzero(np.r_[True, ines[1:] != ines[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            members[ines[a]] = rows_sorted[a:b]
        ine_count: dict[str, int] = {}
        for t in md.teams:
            ine_count[t["CO_INE"]] = ine_count.get(t["CO_INE"], 0) + 1
        cands = [t for t in md.teams if not t["DT_DESATIVACAO"].strip()
                 and ine_count[t["CO_INE"]] == 1]
        perm = rng.permutation(len(cands))
        cands = sorted((cands[i] for i in perm), key=lambda t: len(members.get(t["CO_INE"], ())))
        chosen = []
        for t in cands:
            rows = members.get(t["CO_INE"], np.zeros(0, dtype=np.int64))
            people = lot["prof"][rows]
            if np.all(solo_team[people]) and not np.any(pick.touched[people]):
                chosen.append(t)
                lot["CO_INE"][rows] = ""
                pick.touched[people] = True
                exp["LOTACAO_CHANGED"] += len(rows)
                if len(chosen) == ch.teams_removed:
                    break
        if len(chosen) < ch.teams_removed:
            raise ValueError(f"not enough teams for {ch.teams_removed} removals")
        removed_teams = {(t["cnes"], t["CO_INE"]) for t in chosen}
        md.teams = [t for t in md.teams if (t["cnes"], t["CO_INE"]) not in removed_teams]
        exp["TEAM_REMOVED"] += len(chosen)
        touched_teams |= removed_teams

    new_date = shifted_date(spec.date, ch.months)
    y, m, d = new_date.split("-")
    date_br = f"{int(d):02d}/{m}/{y}"
    md.teams = [dict(t) for t in md.teams]           # copies: the base model's dicts stay
    if ch.teams_deactivated:
        cands = [t for t in md.teams if not t["DT_DESATIVACAO"].strip()]
        if len(cands) < ch.teams_deactivated:
            raise ValueError(f"not enough active teams for {ch.teams_deactivated}")
        for i in np.sort(rng.permutation(len(cands))[:ch.teams_deactivated]):
            cands[i]["DT_DESATIVACAO"] = date_br
            touched_teams.add((cands[i]["cnes"], cands[i]["CO_INE"]))
        exp["TEAM_DEACTIVATED"] += ch.teams_deactivated
    if ch.teams_reactivated:
        cands = [t for t in md.teams if t["DT_DESATIVACAO"].strip()
                 and (t["cnes"], t["CO_INE"]) not in touched_teams]
        if len(cands) < ch.teams_reactivated:
            raise ValueError(f"not enough inactive teams for {ch.teams_reactivated} "
                             "reactivations (Spec.inactive_teams)")
        for i in np.sort(rng.permutation(len(cands))[:ch.teams_reactivated]):
            cands[i]["DT_DESATIVACAO"] = " "
        exp["TEAM_REACTIVATED"] += ch.teams_reactivated
    if ch.teams_added:
        ubs = sorted({t["cnes"] for t in md.teams})
        taken = {t["CO_INE"] for t in md.teams}
        for i, ine in enumerate(_fresh_codes("ine", ch.teams_added, taken, spec.seed + 91)):
            md.teams.append({"cnes": ubs[int(rng.integers(len(ubs)))], "ID_TP_EQUIPE": " ",
                             "TP_EQUIPE": "72", "SG_EQUIPE": "EMULTI",
                             "DS_EQUIPE": team_description("72"), "CO_INE": ine,
                             "CO_AREA": f"{9000 + i:04d}", "DS_AREA": f"AREA NOVA {i + 1}",
                             "NM_REFERENCIA": f"EMULTI NOVA {i + 1}", "DT_DESATIVACAO": " "})
        exp["TEAM_ADDED"] += ch.teams_added
    if ch.units_added:
        template = md.establishments[0]
        for i, code in enumerate(_fresh_codes("cnes", ch.units_added, set(units),
                                              spec.seed + 93)):
            md.establishments.append({**template, "CNES": code, "NM_FANTA": f"UBS NOVA {i + 1}",
                                      "_compl": ["AB"]})
            units.append(code)
        exp["UNIT_ADDED"] += ch.units_added

    # -- professionals and lotações ------------------------------------------------------
    cbo = lot["CO_CBO"]
    for p in pick.take(solo_noteam, ch.professionals_removed, "professionals to remove"):
        drop_prof[p] = True
    exp["PROFESSIONAL_REMOVED"] += ch.professionals_removed
    cns_taken = set(prof["CO_CNS"].tolist())
    changed = pick.take(np.ones(n, dtype=bool), ch.cns_changed, "professionals")
    if len(changed):
        prof["CO_CNS"][changed] = _fresh("cns", len(changed), cns_taken, spec.seed + 97, rng)
    exp["CNS_CHANGED"] += ch.cns_changed
    for p in pick.take(second_free, ch.lotacoes_removed, "second lotações to remove"):
        drop_lot[first[p] + 1] = True
    exp["LOTACAO_REMOVED"] += ch.lotacoes_removed
    for p in pick.take(solo_noteam, ch.lotacoes_added, "professionals to get a lotação"):
        j = first[p]
        c = other_unit({lot["CNES"][j]}, int(p) * 11 + 1, units)
        new_lots.append((int(p), c, "", cbo[j], " "))
    exp["LOTACAO_ADDED"] += ch.lotacoes_added
    # ACS to another active eSF team of the same unit (one per source team)
    esf: dict[str, list[str]] = {}
    for t in md.teams:
        if t["TP_EQUIPE"] == "70" and not t["DT_DESATIVACAO"].strip():
            esf.setdefault(t["cnes"], []).append(t["CO_INE"])
    acs = np.zeros(n, dtype=bool)
    acs[has] = cbo[first[has]] == ACS
    pool = solo_team & acs & ~pick.touched
    done_teams: set[str] = set()
    moved = 0
    for p in rng.permutation(np.flatnonzero(pool)):
        if moved == ch.lotacoes_team_changed:
            break
        j = first[p]
        c, t = lot["CNES"][j], lot["CO_INE"][j]
        others = [x for x in esf.get(c, []) if x != t]
        if t in done_teams or t not in esf.get(c, []) or not others:
            continue
        lot["CO_INE"][j] = others[int(p) % len(others)]
        done_teams.add(t)
        pick.touched[p] = True
        moved += 1
    if moved < ch.lotacoes_team_changed:
        raise ValueError(f"not enough ACS in units with two eSF for {ch.lotacoes_team_changed}")
    alt = np.zeros(n, dtype=bool)
    alt[has] = np.isin(cbo[first[has]], list(ALT_CBO))
    for p in pick.take(solo_noteam & alt, ch.lotacoes_cbo_changed, "occupation changes"):
        cbo[first[p]] = ALT_CBO[cbo[first[p]]]
    for p in pick.take(solo_noteam, ch.lotacoes_unit_changed, "unit changes"):
        j = first[p]
        lot["CNES"][j] = other_unit({lot["CNES"][j]}, int(p) * 5 + 2, units)
    exp["LOTACAO_CHANGED"] += (ch.lotacoes_team_changed + ch.lotacoes_cbo_changed
                               + ch.lotacoes_unit_changed)

    # -- rebuild: drop, renumber, append the new professionals and lotações -------------
    keep_lot = ~drop_lot & ~drop_prof[lot["prof"]]
    renum = np.cumsum(~drop_prof) - 1
    lot = {k: v[keep_lot] for k, v in lot.items()}
    lot["prof"] = renum[lot["prof"]]
    prof = {k: v[~drop_prof] for k, v in prof.items()}
    if new_lots:
        extra = np.array([renum[p] for p, *_ in new_lots])
        for key, col in (("prof", extra), ("CNES", [x[1] for x in new_lots]),
                         ("CO_INE", [x[2] for x in new_lots]),
                         ("CO_CBO", [x[3] for x in new_lots]),
                         ("MICROAREA", [x[4] for x in new_lots])):
            lot[key] = np.concatenate([lot[key], np.asarray(col, dtype=lot[key].dtype)])
    k = ch.professionals_added
    if k:
        base = len(prof["CPF_PROF"])
        cpf_taken = set(md.prof["CPF_PROF"].tolist())
        roles = [OTHER_ROLES[(i * 5 + 1) % len(OTHER_ROLES)] for i in range(k)]
        add = {"NM_PROF": np.array([f"{FIRST[(i * 7) % len(FIRST)]} {LAST[(i * 3) % len(LAST)]} "
                                    f"NOVO" for i in range(k)], dtype=object),
               "CPF_PROF": np.array(_fresh("cpf", k, cpf_taken, spec.seed + 101, rng),
                                    dtype=object),
               "CO_CNS": np.array(_fresh("cns", k, cns_taken, spec.seed + 103, rng),
                                  dtype=object),
               "CONSELHO_ID": np.array([ROLE[r][1] for r in roles], dtype=object),
               "NU_REGISTRO": np.array([f"{(i * 53 + 7000) % 999999:06d}" if ROLE[r][1] else " "
                                        for i, r in enumerate(roles)], dtype=object)}
        prof = {key: np.concatenate([prof[key], add[key]]) for key in prof}
        new_idx = np.arange(base, base + k)
        for key, col in (("prof", new_idx),
                         ("CNES", [units[(i * 3 + 1) % len(units)] for i in range(k)]),
                         ("CO_INE", [""] * k), ("CO_CBO", [ROLE[r][0] for r in roles]),
                         ("MICROAREA", [" "] * k)):
            lot[key] = np.concatenate([lot[key], np.asarray(col, dtype=lot[key].dtype)])
        exp["PROFESSIONAL_ADDED"] += k
    order = np.argsort(lot["prof"], kind="stable")
    md.lot = {key: v[order] for key, v in lot.items()}
    md.prof = prof

    # -- header --------------------------------------------------------------------------
    md.header = {"DATA": new_date}
    if ch.version:
        md.header["VERSAO_XSD"] = ch.version
        if _version_key(ch.version) < _version_key(spec.version):
            exp["VERSION_DOWNGRADE"] = 1
    if ch.ibge and ids.ibge6(ch.ibge) != ids.ibge6(spec.ibge):
        md.header["CO_IBGE_MUN"] = ch.ibge
        md.establishments = [{**e, "_addr": {**e["_addr"], "CO_IBGE_MUN": ch.ibge}}
                             for e in md.establishments]
        exp["MUNICIPALITY_CHANGED"] = 1
    if ch.months < 0:
        exp = {INVERSE.get(key, key): v for key, v in exp.items()}
        # a downgrade seen from the older file is an upgrade: not a change kind
        exp["VERSION_DOWNGRADE"] = 0
        if ch.version and _version_key(ch.version) > _version_key(spec.version):
            exp["VERSION_DOWNGRADE"] = 1
    return exp


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split(".") if x.isdigit())
