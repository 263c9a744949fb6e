"""A lead's email is checked as pydantic's EmailStr checks it, with a fast path for plain addresses."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError
from pydantic.networks import EmailStr

from tests.factories import make_lead

LIBRARY = TypeAdapter(EmailStr)
ADDRESSES = [
    "pat@prospect.example",
    "Pat.O'Neil@Bench.Example",
    "  padded@prospect.example ",
    "a+tag%x@sub.domain.org",
    "Joe Bloggs <joe@prospect.example>",
    "ü@prospect.example",
    "a@xn--bcher-kva.example",
    "a@bücher.example",
    "A@EXAMPLE.ORG",
    "x" * 64 + "@prospect.example",
    "x" * 65 + "@prospect.example",
]
REFUSED = [
    "a..b@prospect.example",
    ".a@prospect.example",
    "a.@prospect.example",
    "a@x",
    "a@localhost",
    "a@x.test",
    "a@-x.com",
    "a@x..com",
    "a@1.2.3.4",
    "joe@[1.2.3.4]",
    "a@x.123",
    "a@" + "b" * 64 + ".com",
    "a@x.com.",
    "no-at-sign",
    "",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_an_address_is_stored_as_the_library_normalises_it(address: str) -> None:
    assert make_lead(email=address).email == LIBRARY.validate_python(address.strip())


@pytest.mark.parametrize("address", REFUSED)
def test_an_address_the_library_refuses_is_refused_with_its_reason(address: str) -> None:
    with pytest.raises(ValidationError) as library:
        LIBRARY.validate_python(address)
    with pytest.raises(ValidationError) as ours:
        make_lead(email=address)
    (error,) = ours.value.errors()
    assert error["loc"] == ("email",) and error["msg"] == library.value.errors()[0]["msg"]


def test_an_email_that_is_not_text_is_refused() -> None:
    with pytest.raises(ValidationError) as ours:
        make_lead(email=42)
    assert ours.value.errors()[0]["type"] == "string_type"
