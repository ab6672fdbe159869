"""The one rounding rule: half-up to the cent, Decimal only."""

from decimal import Decimal

import pytest

from portal.lib.money import CENT, round_money, to_decimal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("2.675", "2.68"),  # a float 2.675 would give 2.67
        ("2.665", "2.67"),  # half-up, not banker's rounding (which gives 2.66)
        ("-0.005", "-0.01"),  # half away from zero for negatives
        ("-2.675", "-2.68"),
        (Decimal("10.125"), "10.13"),
        (Decimal("1E+2"), "100.00"),
        (3, "3.00"),
        (-7, "-7.00"),
        ("12", "12.00"),
        (" 1.999 ", "2.00"),
    ],
)
def test_round_money_half_up(raw, expected):
    result = round_money(raw)
    assert result == Decimal(expected)
    assert str(result) == expected  # always two decimals
    assert result.as_tuple().exponent == CENT.as_tuple().exponent


@pytest.mark.parametrize("bad", [2.675, 0.1, True, None, [1]])
def test_floats_and_other_types_are_refused(bad):
    with pytest.raises(TypeError):
        round_money(bad)
    with pytest.raises(TypeError):
        to_decimal(bad)


@pytest.mark.parametrize("bad", ["abc", "1,50", "", "NaN", "Infinity", Decimal("NaN")])
def test_unparsable_or_non_finite_values_are_refused(bad):
    with pytest.raises(ValueError):
        to_decimal(bad)


def test_to_decimal_keeps_the_exact_value():
    assert to_decimal("2.675") == Decimal("2.675")
    assert to_decimal(5) == Decimal(5)
    value = Decimal("1.23456")
    assert to_decimal(value) == value
