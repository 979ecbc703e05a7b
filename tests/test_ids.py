"""Identifier rules: scalar and vectorized forms agree, known real values, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from esus_runbook import ids

from .support import identifiers as ref

# Well-known valid values (public examples and real municipality codes).
REAL_CPF = ["52998224725", "11144477735"]
REAL_CNPJ = ["11222333000181", "00000000000191"]          # example; Banco do Brasil
REAL_IBGE = ["2927408", "3550308", "3304557", "5300108", "1501402", "1302603", "4314902"]


def _column_valid(kind: str):
    """``ids.check_column``'s validity as a Series (the package checks CPF and CNS columns
    only through it)."""
    return lambda s: pd.Series(ids.check_column(s, kind).valid, index=s.index, dtype=bool)


def _vector(kind: str):
    """The package's column check of ``kind``."""
    return _column_valid(kind) if kind in ("cpf", "cns") else getattr(ids, f"{kind}_valid_series")


def valid(kind: str, value: object) -> bool:
    """The package's answer for one value (its column check on a one-row column), which must
    be the plain rule's answer (tests/support/identifiers.py; IBGE: the package's scalar)."""
    got = bool(_vector(kind)(pd.Series([value], dtype=object)).iloc[0])
    rule = ids.ibge_valid if kind == "ibge" else getattr(ref, f"{kind}_valid")
    assert got == rule(value), (kind, value)
    return got


def _random_digits(rng, n, count):
    return ["".join(map(str, row)) for row in rng.integers(0, 10, size=(count, n))]


def test_cpf_known_and_repeated():
    for v in REAL_CPF:
        assert valid("cpf", v)
    for d in "0123456789":
        assert not valid("cpf", d * 11), d           # repeated digits pass the sum
    assert not valid("cpf", "52998224724")
    assert not valid("cpf", "529.982.247-25")        # formatted: callers strip first
    assert not valid("cpf", None)
    assert not valid("cpf", "5299822472５")           # full-width digit is not ASCII


def test_cns_prefix_rules():
    assert valid("cns", ref.cns_from_pis("12345678901"))
    assert not valid("cns", "000000000000000")        # the sum alone would pass
    base = "70000000000000"
    good7 = next(base[:-1] + str(a) + str(b) for a in range(10) for b in range(10)
                 if valid("cns", base[:-1] + str(a) + str(b)))
    assert valid("cns", good7)
    for prefix in "0346":                               # invalid prefixes even with a good sum
        candidates = [prefix + s for s in _random_digits(np.random.default_rng(1), 14, 3000)]
        summed = [c for c in candidates if sum(int(x) * (15 - i) for i, x in enumerate(c))
                  % 11 == 0]
        assert summed, prefix
        assert not any(valid("cns", c) for c in summed), prefix
    fives = [c for c in ("5" + s for s in _random_digits(np.random.default_rng(2), 14, 3000))
             if valid("cns", c)]
    assert fives and all(valid("cns", c) for c in fives)   # prefix 5 accepted
    # definitive form: positions 12-13 must be 00 and 14 in {0,1}
    assert not valid("cns", "123456789010100")


def test_cns_from_pis_takes_the_001_branch():
    rng = np.random.default_rng(3)
    seen = set()
    for base in ("1" + s for s in _random_digits(rng, 10, 400)):
        cns = ref.cns_from_pis(base)
        assert valid("cns", cns)
        seen.add(cns[11:14])
    assert seen == {"000", "001"}
    with pytest.raises(ValueError):
        ref.cns_from_pis("32345678901")


def test_cnpj_ibge_known():
    for v in REAL_CNPJ:
        assert valid("cnpj", v), v
    assert not valid("cnpj", "11222333000182")
    assert not valid("cnpj", "00000000000000")
    for v in REAL_IBGE:
        assert ids.ibge_valid(v), v
    assert not ids.ibge_valid("2927407")


# IN RFB 2.229/2024 (alphanumeric CNPJ, issued from July 2026): the Receita's published
# example 12.ABC.345/01DE-35. By hand: values (ASCII - 48) 1 2 17 18 19 3 4 5 0 1 20 21;
# weights 5 4 3 2 9 8 7 6 5 4 3 2 give 459, 459 mod 11 = 8, DV1 = 11 - 8 = 3; with DV1 and
# weights 6 5 4 3 2 9 8 7 6 5 4 3 2 the sum is 424, 424 mod 11 = 6, DV2 = 11 - 6 = 5.
RECEITA_ALNUM_CNPJ = "12ABC34501DE35"


def test_cnpj_alphanumeric():
    assert "12ABC34501DE" + ref.cnpj_check_digits("12ABC34501DE") == RECEITA_ALNUM_CNPJ
    assert valid("cnpj", RECEITA_ALNUM_CNPJ)
    assert ids.with_dv("12ABC34501DE", "cnpj") == RECEITA_ALNUM_CNPJ
    for bad in ("12ABC34501DE36", "12ABC34501DF35", "12abc34501de35",   # DV, char, case
                "12.ABC.345/01DE-35", "12ABC34501D35E", "12ABC34501DÉ35", "12ABC34501DE3"):
        assert not valid("cnpj", bad), bad
    rng = np.random.default_rng(2229)
    alphabet = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    bases = ["".join(rng.choice(alphabet, 12)) for _ in range(400)]
    good = [b + ref.cnpj_check_digits(b) for b in bases]
    off = [g[:13] + str((int(g[13]) + 1) % 10) for g in good]
    values = pd.Series(good + off + REAL_CNPJ + [RECEITA_ALNUM_CNPJ.lower(), "", None],
                       index=range(100, 100 + 2 * len(good) + len(REAL_CNPJ) + 3), dtype=object)
    expected = [True] * len(good) + [False] * len(off) + [True] * len(REAL_CNPJ) + [False] * 3
    out = ids.cnpj_valid_series(values)
    assert out.index.equals(values.index)
    assert out.tolist() == expected
    assert [valid("cnpj", v) for v in values] == expected
    assert all(ids.with_dv(b, "cnpj") == g for b, g in zip(bases, good, strict=True))


def test_ibge_nine_exceptions():
    assert len(ids.IBGE_EXCEPTIONS) == 9
    for code in ids.IBGE_EXCEPTIONS:
        assert ids.ibge_valid(code)
        assert ids.with_dv(code[:6], "ibge") != code     # they really break the rule
    s = pd.Series(sorted(ids.IBGE_EXCEPTIONS) + ["2927407"], index=range(10, 20))
    out = ids.ibge_valid_series(s)
    assert out.index.equals(s.index)
    assert out.tolist() == [True] * 9 + [False]
    assert ids.ibge6("2927408") == "292740" and ids.ibge6("292740") == "292740"
    assert ids.ibge6(2927408) == "292740"
    assert ids.ibge6("29274") is None and ids.ibge6(None) is None and ids.ibge6("29274a8") is None


def test_with_dv_round_trips_and_validates_input():
    rng = np.random.default_rng(4)
    for kind, n, rule in (("cpf", 9, "cpf"), ("cnpj", 12, "cnpj"), ("ibge", 6, "ibge"),
                          ("cnes", 6, "cnes_dv"), ("ine", 9, "ine_dv")):
        for base in _random_digits(rng, n, 50):
            value = ids.with_dv(base, kind)
            if kind in ("cpf", "cnpj") and len(set(value)) == 1:
                continue
            assert valid(rule, value), (kind, value)
    with pytest.raises(ValueError):
        ids.with_dv("12345", "cpf")
    with pytest.raises(ValueError):
        ids.with_dv("123456789", "xyz")


@pytest.mark.parametrize("kind,n", [("cpf", 11), ("cns", 15), ("cnpj", 14), ("ibge", 7),
                                    ("cnes_dv", 7), ("ine_dv", 10)])
def test_vectorized_matches_the_plain_rule(kind, n):
    """The package's column checks give, value by value, what the plain rule of
    tests/support/identifiers.py gives (the IBGE rule's scalar form is the package's own)."""
    scalar = ids.ibge_valid if kind == "ibge" else getattr(ref, f"{kind}_valid")
    vector = (_column_valid(kind) if kind in ("cpf", "cns")
              else getattr(ids, f"{kind}_valid_series"))
    rng = np.random.default_rng(5)
    values = _random_digits(rng, n, 4000)
    # make a good share valid so both branches are exercised
    if kind == "cpf":
        values += [ids.with_dv(b, "cpf") for b in _random_digits(rng, 9, 500)]
        values += [d * 11 for d in "0123456789"]
    elif kind == "cns":
        values += [ref.cns_from_pis("2" + b) for b in _random_digits(rng, 10, 300)]
        values += ["000000000000000"]
    elif kind == "cnpj":
        values += [ids.with_dv(b, "cnpj") for b in _random_digits(rng, 12, 500)]
    elif kind == "ibge":
        values += [ids.with_dv(b, "ibge") for b in _random_digits(rng, 6, 500)]
        values += sorted(ids.IBGE_EXCEPTIONS)
    values += ["", " " * n, "a" * n, "1" * (n - 1), "1" * (n + 1), "١" * n, "é" + "1" * (n - 1)]
    s = pd.Series(values + [None], index=np.arange(len(values) + 1) * 3)
    got = vector(s)
    want = [scalar(v) for v in s.tolist()]
    assert got.dtype == bool and got.index.equals(s.index)
    assert got.tolist() == want
    assert 0 < sum(want) < len(want)


def test_vectorized_accepts_object_and_empty_series():
    cpf = _column_valid("cpf")
    assert cpf(pd.Series([], dtype=object)).tolist() == []
    assert cpf(pd.Series(["52998224725", np.nan], dtype=object)).tolist() == [True, False]
    assert ids.digits_format_series(pd.Series(["0012345", "12345", "12a4567"]), 7).tolist() == \
        [True, False, False]


def test_masking():
    assert ids.mask_cpf("52998224725") == "***.982.247-**"
    assert ids.mask_cpf("123") == "***.***.***-**" and ids.mask_cpf("") == ""
    assert ids.mask_cns("898001160660004") == "*** **** **** 0004"
    assert ids.mask_cns("12") == "*** **** **** ****"
    s = pd.Series(["52998224725", "x", None, " 52998224725 "])
    assert ids.mask_cpf_series(s).tolist() == ["***.982.247-**", "***.***.***-**", "",
                                               "***.982.247-**"]
    assert ids.mask_cns_series(pd.Series(["898001160660004", ""])).tolist() == \
        ["*** **** **** 0004", ""]
    # the masks never show more than 6 CPF digits / 4 CNS digits
    assert sum(c.isdigit() for c in ids.mask_cpf("52998224725")) == 6
    assert sum(c.isdigit() for c in ids.mask_cns("898001160660004")) == 4


@pytest.mark.parametrize("text", [
    "CPF 52998224725 inválido", "CPF 529.982.247-25", "CPF 529982247-25",
    "CPF 529 982 247 25", "CNS 898001160660004", "CNS 898 0011 6066 0004",
    "CNS 898.0011.6066.0004", "linha 3: 52998224725;898001160660004",
])
def test_scrub_masks_identifiers(text):
    out = ids.scrub(text)
    assert "52998224725" not in out and "898001160660004" not in out
    assert "529982247" not in out.replace(".", "").replace(" ", "").replace("-", "")
    assert "89800116606" not in out.replace(".", "").replace(" ", "")


def test_scrub_leaves_other_numbers():
    text = "CNPJ 11222333000181, telefone 71 3333-4444, linha 1234, CNES 2386224"
    assert ids.scrub(text) == text


@pytest.mark.parametrize("values", [["52998224725", "11144477735"],      # every row 11 digits
                                    ["1", "", "123456789012"],          # no row of 11
                                    ["a" * 11, "5299822472x"],          # 11 chars, no digits
                                    ["52998224725", "529.982.247", "١" * 11]])
def test_digit_matrix_branches(values):
    """The fast paths of the digit matrix (all rows of the right length, all digits) give
    what the scalar rule gives."""
    s = pd.Series(values, dtype="str")
    assert ids.check_column(s, "cpf").valid.tolist() == [valid("cpf", v) for v in values]
    assert ids.digits_format_series(s, 11).tolist() == \
        [len(v) == 11 and v.isascii() and v.isdigit() for v in values]


@pytest.mark.parametrize("kind,n", [("cpf", 11), ("cns", 15)])
def test_check_column_validity_blanks_and_keys(kind, n):
    """One pass gives the validity of the scalar rule, the blanks, and keys that are equal
    exactly where the texts are equal (duplicates), on every kind of edge case."""
    scalar = getattr(ref, f"{kind}_valid")
    rng = np.random.default_rng(11)
    if kind == "cpf":
        good = [ids.with_dv(b, "cpf") for b in _random_digits(rng, 9, 300)]
    else:
        good = [ref.cns_from_pis("1" + b) for b in _random_digits(rng, 10, 300)]
    values = good + _random_digits(rng, n, 300)
    values += [d * n for d in "0123456789"]                     # all the same digit
    values += ["", "", " " * n, "1" * (n - 1), "1" * (n + 1), "0" * (n - 1), "a" * n,
               "é" + "1" * (n - 1), "١" * n, good[0][:-1] + "x", good[0] + " "]
    values += good[:20] + values[300:310] + ["", "1" * (n - 1), "a" * n]   # repeats
    s = pd.Series(values, dtype="str")
    c = ids.check_column(s, kind)
    assert c.valid.tolist() == [scalar(v) for v in values]
    assert c.blank.tolist() == [v == "" for v in values]
    assert c.key.dtype == np.int64
    assert pd.factorize(c.key)[0].tolist() == pd.factorize(s)[0].tolist()
    assert pd.Series(c.key).duplicated().tolist() == s.duplicated().tolist()
    assert 0 < c.valid.sum() < len(values)
    empty = ids.check_column(pd.Series([], dtype="str"), kind)
    assert empty.valid.tolist() == empty.blank.tolist() == empty.key.tolist() == []


def test_check_column_missing_values():
    """Missing values (object column) are neither valid nor blank and count as equal to
    each other, as pandas' duplicated counts them."""
    s = pd.Series(["52998224725", None, "52998224725", None, ""], dtype=object)
    c = ids.check_column(s, "cpf")
    assert c.valid.tolist() == [True, False, True, False, False]
    assert c.blank.tolist() == [False, False, False, False, True]
    assert pd.Series(c.key).duplicated().tolist() == s.duplicated().tolist()
