"""Ticket codes: short, keypad-friendly, no look-alikes, parsed back from how people type them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.codes import MAX_LENGTH, find_codes, new_code, normalize_code
from nlu.patterns import CODE_ALPHABET


def test_shape() -> None:
    for _ in range(2000):
        code = new_code()
        assert len(code) == MAX_LENGTH <= 12
        assert code.startswith("ADU-")
        assert not set(code[4:]) & set("0O1ILU")
        assert set(code[4:]) <= set(CODE_ALPHABET)


def test_not_sequential() -> None:
    codes = [new_code() for _ in range(1000)]
    assert len(set(codes)) == 1000
    assert sorted(codes) != codes


@given(st.text(alphabet=CODE_ALPHABET, min_size=7, max_size=7), st.sampled_from(["-", " ", "", "_", "."]))
def test_typed_variants_normalize(body: str, sep: str) -> None:
    assert normalize_code(f"cek adu{sep}{body.lower()} ya") == f"ADU-{body}"


def test_find_codes_dedupes_and_ignores_lookalikes() -> None:
    assert find_codes("ADU-K7X3M9P dan adu k7x3m9p, juga ADU-K7X3M9Q") == ["ADU-K7X3M9P", "ADU-K7X3M9Q"]
    assert normalize_code("ADU-K7X0M9P") is None  # 0 is not in the alphabet
    assert normalize_code("sama-sama") is None
