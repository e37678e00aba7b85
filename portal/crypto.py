"""Symmetric encryption at rest (Fernet), with key rotation: the first key of a
list encrypts, every key decrypts. Used for ID numbers and institutions' API secrets."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def encrypt(keys: Sequence[str], text: str) -> str:
    return _multifernet(tuple(keys)).encrypt(text.encode()).decode()


def decrypt(keys: Sequence[str], token: str) -> str:
    """Raises ValueError when no configured key opens the token."""
    try:
        return _multifernet(tuple(keys)).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("value cannot be decrypted with the configured keys") from None


def reencrypt(keys: Sequence[str], token: str) -> str:
    """The same plaintext under the first (current) key."""
    return _multifernet(tuple(keys)).rotate(token.encode()).decode()
