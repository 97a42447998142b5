"""Passwords: Argon2id hashes (argon2-cffi), generated passwords a person can type on a phone.

A password is generated for every new account and printed once (CLI) or shown once (admin page);
it is never stored, logged or printed again.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Argon2id with the OWASP Password Storage Cheat Sheet's parameters (m=19 MiB, t=2, p=1): a district
# server of two cores logs a shift of fifty workers in within seconds (argon2-cffi's default profile,
# 64 MiB × 3 passes × 4 lanes, costs about ten times as much per login and stalls every page meanwhile).
# Hashes made with other parameters are upgraded at the next successful login (needs_rehash).
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# no 0/O, 1/l/I: read from a slip of paper and typed on a phone
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# verifying against this when the login is unknown takes as long as a real check (no timing oracle)
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def generate_password(groups: int = 3, size: int = 4) -> str:
    """e.g. `k7mq-x3td-9ha2`: 60 bits of randomness."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(size)) for _ in range(groups))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; an unknown account (None) is checked against a dummy hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
