"""What the CNES generators share: what to generate (:class:`Spec`, :class:`Changes`), the
generated :class:`Model`, the people vocabulary (names, roles) and valid identifiers.

:mod:`.cnes_xml` builds a :class:`Model` from a :class:`Spec` and writes it as XML;
:mod:`.cnes_next_month` turns a model into its next or previous month (:class:`Changes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .. import ids

DEMO_DATE = "2026-11-20"
FIRST = ("MARIA", "JOSÉ", "ANA", "JOÃO", "ANTÔNIO", "FRANCISCA", "LUÍS", "CONCEIÇÃO",
         "PAULO", "LÚCIA", "CARLOS", "RAIMUNDA", "MÁRCIO", "ADRIANA", "SEBASTIÃO", "JULIANA",
         "FÁBIO", "CÉLIA", "RENATA", "ANDRÉ", "IRACEMA", "TIAGO", "INÊS", "JOSUÉ")
LAST = ("SILVA", "SANTOS", "OLIVEIRA", "SOUZA", "CONCEIÇÃO", "ARAÚJO", "PEREIRA", "LIMA",
        "GONÇALVES", "ASSUNÇÃO", "BRANDÃO", "D'ÁVILA", "CARVALHO", "MAGALHÃES", "FALCÃO",
        "RIBEIRO", "ALMEIDA", "NASCIMENTO", "AZEVEDO", "PAIXÃO")
ROLE = {"medico_esf": ("225142", "71"), "enf_esf": ("223565", "66"), "tec_esf": ("322245", "66"),
        "acs": ("515105", ""), "dent_esf": ("223293", "75"), "asb_esf": ("322430", "75"),
        "medico": ("225125", "71"), "enf": ("223505", "66"), "psi": ("251510", "77"),
        "as": ("251605", "62"), "nutri": ("223710", "74"), "fisio": ("223605", "70"),
        "tec": ("322205", "66"), "adm": ("411010", ""), "recep": ("422105", ""),
        "ped": ("225124", "71"), "go": ("225250", "71"), "farm": ("223405", "69"),
        "ace": ("515140", ""), "gerente": ("131210", "")}
OTHER_ROLES = ("medico", "enf", "tec", "tec", "adm", "recep", "ped", "go", "farm", "ace",
               "tec", "enf", "gerente")


@dataclass(frozen=True)
class Changes:
    """How many changes of each sort the next (or previous) month brings.

    professionals_removed: professionals with one lotação outside teams leave the file.
    professionals_added: new professionals, one lotação outside teams.
    cns_changed: professionals keep their CPF with a new CNS.
    lotacoes_removed / lotacoes_added: a professional with two lotações loses the second /
        one with a single lotação outside teams gets a second one in another unit.
    lotacoes_team_changed: an ACS moves to another eSF team of the same unit.
    lotacoes_cbo_changed: occupation changes within its family (same unit, no team).
    lotacoes_unit_changed: a lotação outside teams moves to another unit.
    teams_added: new eMulti teams, no members yet. teams_removed: teams leave the file
        (fewest members first); their members stay in the unit without team (one
        LOTACAO_CHANGED each). teams_deactivated / teams_reactivated: DT_DESATIVACAO set /
        cleared (reactivation needs inactive teams: ``Spec.inactive_teams``).
    units_added: new units with no team or lotação yet. units_removed: units without teams
        leave; their lotações move to other units (one LOTACAO_CHANGED each).
    version / ibge: the layout version / municipality of the changed file.
    months: +1 next month, -1 previous month (the file is then the *older* one).
    """

    professionals_removed: int = 0
    professionals_added: int = 0
    cns_changed: int = 0
    lotacoes_removed: int = 0
    lotacoes_added: int = 0
    lotacoes_team_changed: int = 0
    lotacoes_cbo_changed: int = 0
    lotacoes_unit_changed: int = 0
    teams_added: int = 0
    teams_removed: int = 0
    teams_deactivated: int = 0
    teams_reactivated: int = 0
    units_added: int = 0
    units_removed: int = 0
    version: str | None = None
    ibge: str | None = None
    months: int = 1
    seed: int = 1

    @classmethod
    def parse(cls, text: str) -> Changes:
        """``"professionals_removed=3,version=3.0"`` → Changes (for the command line)."""
        kinds = {f.name: f.type for f in fields(cls)}
        values: dict = {}
        for item in filter(None, (x.strip() for x in text.split(","))):
            key, _, value = item.partition("=")
            key = key.strip()
            if key not in kinds:
                raise ValueError(f"unknown change {key!r}; known: {', '.join(kinds)}")
            values[key] = value.strip() if key in ("version", "ibge") else int(value)
        return cls(**values)



@dataclass(frozen=True)
class Spec:
    """What to generate. ``cnes`` lists units that must exist (first UBS, in order);
    ``inject`` lists rule codes to trigger (see INJECTABLE), placed in ``target`` (a CNES
    of ``cnes``; default: the first UBS)."""

    ibge: str = "2927408"
    uf: str = "BA"
    professionals: int = 300
    version: str = "3.1"
    encoding: str = "ISO-8859-1"
    seed: int = 0
    date: str = DEMO_DATE
    cnes: tuple[str, ...] = ()
    unit_names: tuple[str, ...] = ()
    inject: tuple[str, ...] = ()
    target: str | None = None
    cnpj: str | None = None
    inactive_teams: int = 0                 # the last N teams get DT_DESATIVACAO
    changes: Changes | None = None          # next/previous month of this file


@dataclass
class Model:
    establishments: list[dict] = field(default_factory=list)
    teams: list[dict] = field(default_factory=list)          # dicts with "cnes"
    prof: dict[str, np.ndarray] = field(default_factory=dict)
    lot: dict[str, np.ndarray] = field(default_factory=dict)  # sorted by prof
    header: dict[str, str] = field(default_factory=dict)      # IDENTIFICACAO overrides
    expected: dict[str, int] | None = None   # with Spec.changes: counts a diff must find



# --------------------------------------------------------------------------- identifiers
_W_CPF1 = np.arange(10, 1, -1)
_W_CPF2 = np.arange(11, 1, -1)
_W_CNS = np.arange(15, 0, -1)


def _digits(values: np.ndarray, n: int) -> np.ndarray:
    """Integer array → (len, n) matrix of decimal digits (zero-padded)."""
    p = 10 ** np.arange(n - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // p) % 10


def _join(m: np.ndarray) -> np.ndarray:
    chars = (m.astype(np.uint8) + 48).tobytes()
    n = m.shape[1]
    return np.array([chars[i * n:(i + 1) * n].decode("ascii") for i in range(m.shape[0])],
                    dtype=object)


def bijective(count: int, modulus: int, salt: int) -> np.ndarray:
    """``count`` distinct pseudo-random integers below ``modulus`` (an affine bijection)."""
    i = np.arange(count, dtype=np.int64)
    mult = 982451653 % modulus or 7
    while np.gcd(mult, modulus) != 1:
        mult += 2
    return (i * mult + salt * 7919 + 12345) % modulus


def cpfs(count: int, salt: int) -> np.ndarray:
    base = _digits(bijective(count, 10**9, salt), 9)
    dv1 = 11 - (base @ _W_CPF1) % 11
    dv1 = np.where(dv1 >= 10, 0, dv1)
    m = np.column_stack([base, dv1])
    dv2 = 11 - (m @ _W_CPF2) % 11
    m = np.column_stack([m, np.where(dv2 >= 10, 0, dv2)])
    rep = (m == m[:, :1]).all(axis=1)
    m[rep, 0] = (m[rep, 0] + 1) % 10   # never a repeated-digit CPF (recomputed below)
    if rep.any():
        out = _join(m)
        out[rep] = [ids.with_dv(v[:9], "cpf") for v in out[rep]]
        return out
    return _join(m)


def cnss(count: int, salt: int, rng: np.random.Generator) -> np.ndarray:
    """Half definitive (1/2 + PIS-like base), half provisional (7/8/9), all valid."""
    body = _digits(bijective(count, 10**12, salt), 12)
    first = rng.choice(np.array([1, 2, 7, 8, 9]), size=count)
    m = np.zeros((count, 15), dtype=np.int64)
    m[:, 0] = first
    definitive = first <= 2
    # definitive: d0 + 10 digits + 00 + {0,1} + dv
    m[:, 1:11] = body[:, 2:12]
    s = m[:, :11] @ _W_CNS[:11]
    dv = 11 - s % 11
    dv = np.where(dv == 11, 0, dv)
    ten = dv == 10
    dv = np.where(ten, 11 - (s + 2) % 11, dv)
    d_def = m.copy()
    d_def[:, 13] = np.where(ten, 1, 0)
    d_def[:, 14] = dv
    # provisional: d0 + 13 digits + dv, sum ≡ 0 (mod 11); tweak digit 13 when dv would be 10
    p = m.copy()
    p[:, 1:13] = body
    p[:, 13] = rng.integers(0, 10, size=count)
    for _ in range(12):
        dv = (-(p[:, :14] @ _W_CNS[:14])) % 11
        bad = dv == 10
        p[:, 14] = np.where(bad, 0, dv)
        if not bad.any():
            break
        p[bad, 13] = (p[bad, 13] + 1) % 10
    out = np.where(definitive[:, None], d_def, p)
    return _join(out)

