"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

MIN_LENGTH = 10
MAX_LENGTH = 200
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

DEFAULT_TIME_COST = PasswordHasher().time_cost
DEFAULT_MEMORY_COST = PasswordHasher().memory_cost


@lru_cache(maxsize=4)
def _hasher_with(time_cost: int, memory_cost: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    # Verified against when the email is unknown, so that a miss takes as long as a wrong password.
    return hasher, hasher.hash("not-a-real-password-only-for-timing")


def _hasher() -> tuple[PasswordHasher, str]:
    """argon2id with the library's defaults (RFC 9106); ARGON2_TIME_COST/ARGON2_MEMORY_COST may change them."""
    config = current_app.config if has_app_context() else {}
    return _hasher_with(
        int(config.get("ARGON2_TIME_COST", DEFAULT_TIME_COST)),
        int(config.get("ARGON2_MEMORY_COST", DEFAULT_MEMORY_COST)),
    )


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords, lower-cased."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is not acceptable, or None when it is."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in common_passwords():
        return "That password is one of the most commonly used ones. Please choose another."
    if len(set(lowered)) < 3:
        return "That password is too easy to guess. Please choose another."
    local_part = email.lower().partition("@")[0]
    if email and (lowered == email.lower() or (len(local_part) >= 4 and local_part in lowered)):
        return "Your password must not contain your email address."
    return None


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher()[0].hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash; an empty or broken hash never matches."""
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def burn_time(password: str) -> None:
    """Spend as long as a real check, for callers that found no account."""
    verify_password("", password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    try:
        return _hasher()[0].check_needs_rehash(password_hash)
    except InvalidHashError:
        return False
