"""Encryption at rest for platform access and refresh tokens.

TOKEN_ENCRYPTION_KEY holds one or more Fernet keys, newest first: the first
encrypts, all decrypt, so a key can be rotated without losing installed shops.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenDecryptError(RuntimeError):
    """A stored token cannot be decrypted with any configured key."""


class TokenCipher:
    def __init__(self, keys: str):
        self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise TokenDecryptError("stored token cannot be decrypted with TOKEN_ENCRYPTION_KEY") from exc

    def __repr__(self) -> str:
        return "TokenCipher(<keys hidden>)"
