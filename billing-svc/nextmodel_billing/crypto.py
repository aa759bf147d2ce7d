"""Encryption at rest for projects' own provider keys (AES-256-GCM).

The data key is derived from NEXTMODEL_SECRET_KEY with HKDF; each value gets a fresh
nonce, and the project and provider are bound in as associated data, so a ciphertext
copied to another row does not decrypt.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"v1"


class SecretBox:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("NEXTMODEL_SECRET_KEY must be at least 16 bytes")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"nextmodel-provider-keys",
                   info=b"aes-256-gcm").derive(secret)
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, project_id: str, provider: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), f"{project_id}\0{provider}".encode())
        return (_VERSION + b":" + base64.b64encode(nonce + sealed)).decode()

    def open(self, ciphertext: str, *, project_id: str, provider: str) -> str:
        version, _, payload = ciphertext.encode().partition(b":")
        if version != _VERSION:
            raise ValueError("unknown ciphertext version")
        raw = base64.b64decode(payload)
        return self._aead.decrypt(raw[:12], raw[12:], f"{project_id}\0{provider}".encode()).decode()
