"""The password policy and the session fingerprint, without a database."""

from __future__ import annotations

import pytest

from ledger.demo import DEMO_PASSWORD
from ledger.domain.passwords import COMMON_PASSWORDS, MIN_LENGTH, password_problem
from tests.builders import PASSWORD


@pytest.mark.parametrize("password", [PASSWORD, DEMO_PASSWORD, "analytical engine", "long enough", "x" * 9 + "y"])
def test_the_passwords_the_app_and_its_tests_use_are_accepted(password):
    assert password_problem(password, "alpha@example.org") is None


@pytest.mark.parametrize(("password", "words"), [
    ("", "at least 10"),
    ("nine char", "at least 10"),
    ("x" * 201, "at most 200"),
    ("aaaaaaaaaaaa", "one repeated character"),
    ("password123", "most common"),
    ("Pass Word 123", "most common"),
    ("QWERTYUIOP", "most common"),
    ("1234567890", "most common"),
    ("alice.smith@example.org", "email address"),
    ("ALICE.SMITH", "email address"),
])
def test_weak_passwords_are_refused_with_a_reason(password, words):
    problem = password_problem(password, "Alice.Smith@example.org")
    assert problem is not None
    assert words in problem


def test_the_email_rule_needs_the_email():
    assert password_problem("alice.smith@example.org") is None


def test_the_common_list_has_only_entries_the_length_rule_would_let_through():
    """A shorter entry could never be reached; a normalised entry is what is compared."""
    assert all(len(p) >= MIN_LENGTH and p == "".join(p.split()).lower() for p in COMMON_PASSWORDS)
