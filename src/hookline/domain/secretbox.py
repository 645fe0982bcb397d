"""Encryption at rest for webhook secrets: signing secrets and credential header values.

With ``HOOKLINE_SECRET_KEY`` set (one or more comma-separated Fernet keys, newest first) secrets
are stored encrypted; older keys still decrypt, so keys rotate by prepending a new one. Without a
key secrets are stored as they are and a warning is logged at start-up. A value stored before the
key was set still reads (it is not prefixed) and is encrypted the next time its webhook is saved.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hookline.errors import ConfigError

SEALED_PREFIX = "fernet:"


class SecretBox:
    def __init__(self, keys: str | None) -> None:
        self._fernet: MultiFernet | None = None
        if keys:
            try:
                self._fernet = MultiFernet(
                    [Fernet(k.strip()) for k in keys.split(",") if k.strip()]
                )
            except ValueError as exc:
                raise ConfigError(
                    "HOOKLINE_SECRET_KEY must be Fernet keys (hookline generate-key makes one)"
                ) from exc

    @property
    def encrypts(self) -> bool:
        return self._fernet is not None

    def seal(self, plaintext: str) -> str:
        if self._fernet is None:
            return plaintext
        return SEALED_PREFIX + self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(SEALED_PREFIX):
            return stored
        if self._fernet is None:
            raise ConfigError("secrets are encrypted but HOOKLINE_SECRET_KEY is not set")
        try:
            return self._fernet.decrypt(stored[len(SEALED_PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise ConfigError("HOOKLINE_SECRET_KEY cannot decrypt the stored secrets") from exc

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()
