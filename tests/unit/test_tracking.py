"""Tracking numbers: the Damm check digit and the generator."""

from __future__ import annotations

import itertools
import random

import pytest

from gateway.parsers.tracking import (
    _DAMM_TABLE,
    damm_check_digit,
    is_valid_tracking_number,
    new_tracking_number,
)

SAMPLE_SIZE = 2000


def _with_check(body: str) -> str:
    return body + damm_check_digit(body)


def _sample(count: int = SAMPLE_SIZE, seed: int = 1708) -> list[str]:
    rng = random.Random(seed)
    return [new_tracking_number(rng) for _ in range(count)]


def _substitutions(number: str):
    for index, digit in enumerate(number):
        for other in "0123456789":
            if other != digit:
                yield number[:index] + other + number[index + 1 :]


def _adjacent_transpositions(number: str):
    for index in range(len(number) - 1):
        first, second = number[index], number[index + 1]
        if first != second:
            yield number[:index] + second + first + number[index + 2 :]


def test_table_is_a_weakly_totally_antisymmetric_quasigroup():
    digits = set(range(10))
    assert all(set(row) == digits for row in _DAMM_TABLE)
    assert all({row[column] for row in _DAMM_TABLE} == digits for column in range(10))
    assert all(_DAMM_TABLE[i][i] == 0 for i in range(10))


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        pytest.param("572", "4", id="wikipedia-example"),
        pytest.param("5724", "0", id="with-check-digit-checks-to-zero"),
        pytest.param("", "0", id="empty"),
        pytest.param("0", "0", id="zero"),
        pytest.param("1", "3", id="one"),
        pytest.param("4", "5", id="four"),
    ],
)
def test_damm_check_digit(digits, check):
    assert damm_check_digit(digits) == check


@pytest.mark.parametrize(
    "digits",
    [
        pytest.param("12a4", id="letter"),
        pytest.param("12 34", id="space"),
        pytest.param("-123", id="sign"),
        pytest.param("١٢٣", id="arabic-indic-digits"),
        pytest.param("12²", id="superscript"),
        pytest.param("１２３", id="fullwidth"),
    ],
)
def test_damm_check_digit_rejects_non_ascii_digits(digits):
    with pytest.raises(ValueError):
        damm_check_digit(digits)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        pytest.param(_with_check("1234567"), True, id="8-digits"),
        pytest.param(_with_check("12345678"), True, id="9-digits"),
        pytest.param(_with_check("123456789"), True, id="10-digits"),
        pytest.param("0000000000", True, id="all-zero-passes-the-check"),
        pytest.param(_with_check("123456"), False, id="7-digits-too-short"),
        pytest.param(_with_check("1234567890"), False, id="11-digits-too-long"),
        pytest.param("", False, id="empty"),
        pytest.param("1234567891", False, id="wrong-check-digit"),
        pytest.param(" " + _with_check("123456789"), False, id="leading-space"),
        pytest.param(_with_check("123456789") + "\n", False, id="trailing-newline"),
        pytest.param("1234-5678-9", False, id="dashes"),
        pytest.param("١٢٣٤٥٦٧٨٩٠", False, id="arabic-indic"),
        pytest.param("１２３４５６７８９０", False, id="fullwidth"),
    ],
)
def test_is_valid_tracking_number(number, valid):
    assert is_valid_tracking_number(number) is valid


@pytest.mark.parametrize("length", [8, 9, 10])
def test_every_single_substitution_and_adjacent_transposition_is_rejected(length):
    rng = random.Random(length)
    if length == 10:
        numbers = _sample()
    else:
        numbers = [
            _with_check("".join(rng.choice("0123456789") for _ in range(length - 1))) for _ in range(500)
        ]
    checked = 0
    for number in numbers:
        assert is_valid_tracking_number(number)
        for typo in (*_substitutions(number), *_adjacent_transpositions(number)):
            assert not is_valid_tracking_number(typo), (number, typo)
            checked += 1
    assert checked >= len(numbers) * 9 * length


def test_generated_numbers_have_the_promised_shape():
    numbers = _sample()
    assert all(len(number) == 10 and number.isascii() and number.isdigit() for number in numbers)
    assert all(number[0] != "0" for number in numbers)
    assert all(is_valid_tracking_number(number) for number in numbers)
    assert len(set(numbers)) == len(numbers)


def test_generated_numbers_are_not_sequential():
    numbers = [int(number) for number in _sample()]
    assert all(abs(later - earlier) > 10_000 for earlier, later in itertools.pairwise(numbers))
    # Every digit turns up in every random position: no fixed prefix or counter.
    for position in range(9):
        assert {str(number)[position] for number in numbers} == set("0123456789") - (
            {"0"} if position == 0 else set()
        )


def test_seeded_generator_is_reproducible():
    assert _sample(5, seed=42) == _sample(5, seed=42)
    assert _sample(5, seed=42) != _sample(5, seed=43)


def test_default_generator_is_the_system_csprng_not_the_global_random_state():
    random.seed(1708)
    first = new_tracking_number()
    random.seed(1708)
    second = new_tracking_number()
    assert first != second
    numbers = {new_tracking_number() for _ in range(500)}
    assert len(numbers) == 500
    assert all(is_valid_tracking_number(number) and number[0] != "0" for number in numbers)
