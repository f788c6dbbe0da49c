"""Encryption at rest with several Fernet keys: the first encrypts, every one of them decrypts."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from shop_app.errors import SettingsError
from shop_app.settings import Secret


class Cipher:
    def __init__(self, keys: Sequence[Secret]) -> None:
        if not keys:
            raise SettingsError("at least one encryption key is needed")
        try:
            self._fernet = MultiFernet([Fernet(key.reveal()) for key in keys])
        except ValueError:
            raise SettingsError("an encryption key is not a valid Fernet key") from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SettingsError("a stored secret cannot be decrypted with any configured key") from None

    def rotate(self, ciphertext: str) -> str:
        """The same plaintext, re-encrypted with the newest key."""
        return self._fernet.rotate(ciphertext.encode()).decode()
