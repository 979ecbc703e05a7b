"""The pt-BR number formatter (esus_runbook/render/numbers.py)."""

from __future__ import annotations

import pytest

from esus_runbook.render.numbers import number, size_bytes


@pytest.mark.parametrize("x,digits,trim,shown", [
    (0, 0, False, "0"),
    (999, 0, False, "999"),
    (1234, 0, False, "1.234"),
    (1234567, 0, False, "1.234.567"),
    (-1234567, 0, False, "-1.234.567"),
    (1234.5, 1, False, "1.234,5"),
    (1234.56, 1, False, "1.234,6"),
    (12.0, 1, False, "12,0"),
    (12.0, 1, True, "12"),
    (2.5, 2, True, "2,5"),
    (2.05, 2, True, "2,05"),
    (1000.0, 2, True, "1.000"),
    (1234567.891, 2, False, "1.234.567,89"),
    (7.96, 1, False, "8,0"),
])
def test_number_groups_thousands_with_dot_and_decimals_with_comma(x, digits, trim, shown):
    assert number(x, digits, trim=trim) == shown


def test_number_without_a_value_says_unknown():
    assert number(None) == "?"
    assert number(None, 2, unknown="—") == "—"


def test_trim_never_touches_the_zeros_of_the_integer_part():
    assert number(1000, 0, trim=True) == "1.000"
    assert number(100.0, 1, trim=True) == "100"


def test_size_bytes_shows_every_digit():
    assert size_bytes(0) == "0 bytes"
    assert size_bytes(3 * 1024 ** 3) == "3.221.225.472 bytes"
    assert size_bytes(None) == "desconhecido"
