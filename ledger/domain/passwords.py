"""The password policy (a password change ends the user's other log-in sessions: services.sessions).

Plain Python, so the same rule holds for the pages, the API and the command
line. The policy is the minimum that stops the guesses an attacker tries
first (NIST SP 800-63B: length, no known-common passwords, nothing derived
from the account), not composition rules that only make people write
passwords down.
"""

from __future__ import annotations

MIN_LENGTH = 10
MAX_LENGTH = 200

#: The passwords tried first by every guessing tool (the top of the public breach lists), plus the obvious
#: ones for this app. Compared case-insensitively and ignoring spaces, so "Pass Word 123" is caught too;
#: only entries of at least MIN_LENGTH characters matter, shorter ones are refused by length anyway.
COMMON_PASSWORDS: frozenset[str] = frozenset({
    "1234567890", "12345678910", "123456789a", "0123456789", "0987654321", "1111111111", "1234512345",
    "1q2w3e4r5t", "1qaz2wsx3edc", "qwertyuiop", "qwerty1234", "qwerty12345", "qwertyuiop1", "asdfghjkl1",
    "1234qwerty", "zaq12wsxcde3", "q1w2e3r4t5", "abcdefghij", "abc1234567", "abcd123456",
    "password12", "password123", "password1234", "password!1", "passw0rd12", "p@ssw0rd12", "p@ssword123",
    "iloveyou12", "iloveyou123", "sunshine12", "princess12", "football12", "baseball12", "superman12",
    "starwars12", "trustno1234", "letmein123", "welcome123", "welcome2020", "welcome2021", "changeme12",
    "changeme123", "administrator", "admin12345", "admin123456", "qwerty123456", "123123123123",
    "secret1234", "monkey1234", "dragon1234", "master1234", "whatever12", "correcthorsebatterystaple",
    "alliance123", "allianceledger", "ledger12345", "ledgerpassword", "masks2020!", "surgicalmasks",
})


def _normalised(value: str) -> str:
    return "".join(value.split()).lower()


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` is refused, in words for the field; None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"A password needs at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"A password can be at most {MAX_LENGTH} characters."
    plain = _normalised(password)
    if len(set(plain)) == 1:
        return "A password made of one repeated character is guessed at once; choose another."
    if email:
        address = email.strip().lower()
        if plain in {_normalised(address), _normalised(address.partition("@")[0])}:
            return "A password cannot be your email address (or its name part)."
    if plain in COMMON_PASSWORDS:
        return "This is one of the most common passwords, tried first by anyone guessing; choose another."
    return None
