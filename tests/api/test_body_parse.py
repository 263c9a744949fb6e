"""The strict JSON parse on its own: depth counted outside strings, refused values by path."""

from __future__ import annotations

import pytest

from bot.api.body import MAX_DEPTH, BodyError, check_content_type, parse


def test_nesting_at_the_limit_parses() -> None:
    assert parse(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None


def test_nesting_one_past_the_limit_is_400() -> None:
    with pytest.raises(BodyError) as refused:
        parse(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert refused.value.status == 400


@pytest.mark.parametrize(
    "text", [b'["' + b"[" * 40 + b'"]', b'["\\"' + b"{" * 40 + b'"]', b'{"a\\\\\\"' + b"[" * 40 + b'": 1}']
)
def test_brackets_inside_strings_with_escaped_quotes_are_not_nesting(text: bytes) -> None:
    assert parse(text)


def test_an_escaped_backslash_before_a_closing_quote_ends_the_string() -> None:
    with pytest.raises(BodyError):
        parse(b'["\\\\", ' + b"[" * 20 + b"]" * 20 + b"]")


def test_refused_values_are_reported_by_path_in_order() -> None:
    with pytest.raises(BodyError) as refused:
        parse(b'{"a": [1, NaN], "b": {"c": 1, "c": 2}, "d": ' + b"1" * 30 + b"}")
    assert [(path, message.split()[0]) for path, message in refused.value.problems] == [
        (("a", 1), "NaN"),
        (("b", "c"), "key"),
        (("d",), "integer"),
    ]


def test_an_exponent_overflowing_to_infinity_is_refused() -> None:
    with pytest.raises(BodyError) as refused:
        parse(b'{"revenue": 1e400}')
    assert refused.value.problems[0][0] == ("revenue",)


def test_a_bom_is_broken_json() -> None:
    with pytest.raises(BodyError) as refused:
        parse("\ufeff{}".encode())
    assert refused.value.status == 400


@pytest.mark.parametrize(("content_type", "charset"), [("application/json", None), ("application/json", "UTF-8")])
def test_json_content_types_pass(content_type: str, charset: str | None) -> None:
    check_content_type(content_type, charset)


@pytest.mark.parametrize(
    ("content_type", "charset"), [("text/plain", None), ("", None), ("application/json", "utf-16")]
)
def test_other_content_types_are_415(content_type: str, charset: str | None) -> None:
    with pytest.raises(BodyError) as refused:
        check_content_type(content_type, charset)
    assert refused.value.status == 415
