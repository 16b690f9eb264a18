"""A sign-in link opened in another browser names the account it signs in to, its address masked:
enough for its owner to recognise, not the address itself."""

from __future__ import annotations

import pytest

from app.sign_in import masked


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("ana@lakeside.example", "a***@lakeside.example"),
        (" Bruno.Silva@city.gov ", "B***@city.gov"),
        ("x@y.org", "x***@y.org"),
        ("odd@name@host.example", "o***@host.example"),
    ],
)
def test_an_address_is_shown_by_its_first_letter_and_its_domain(address: str, shown: str) -> None:
    assert masked(address) == shown
