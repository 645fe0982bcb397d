"""Encryption at rest for webhook secrets.

With ``HOOKLINE_SECRET_KEY`` set (one or more comma-separated Fernet keys, newest first) secrets
are stored encrypted; older keys still decrypt, so keys rotate by prepending a new one. Without a
key secrets are stored as they are and a warning is logged at start-up.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hookline.errors import ConfigError

_PREFIX = "fernet:"


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
        return _PREFIX + self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(_PREFIX):
            return stored
        if self._fernet is None:
            raise ConfigError("secrets are encrypted but HOOKLINE_SECRET_KEY is not set")
        try:
            return self._fernet.decrypt(stored[len(_PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise ConfigError("HOOKLINE_SECRET_KEY cannot decrypt the stored secrets") from exc

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()
