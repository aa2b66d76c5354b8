"""Signed checkpoints: an Ed25519 key that vouches for the chain up to an entry.

    signer, created = load_signer(Path("regbus-audit.key"))   # made (0600) if missing
    signed = Checkpoint(1, 1000, last_hash, iso_time(now), "", "").signed(signer)
    load_verifier(Path("regbus-audit.key.pub")).verify(signed)   # True

The private key file is PKCS#8 PEM; beside it, ``<key file>.pub`` holds the public key,
which is all ``regbus audit verify`` needs.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from regbus.bus.audit.entry import dumps
from regbus.bus.audit.errors import AuditError


@dataclass(frozen=True)
class Checkpoint:
    """The chain up to entry ``last_seq`` (whose hash is ``last_hash``), signed."""

    number: int  # 1, 2, 3, ...
    last_seq: int
    last_hash: str
    time: str  # ISO 8601 UTC
    key_id: str
    signature: str  # hex; "" until signed

    def message(self) -> bytes:
        """The bytes the signature is over: every field but the signature."""
        return dumps(
            {
                "number": self.number,
                "last_seq": self.last_seq,
                "last_hash": self.last_hash,
                "time": self.time,
                "key_id": self.key_id,
            }
        ).encode("ascii")

    def signed(self, signer: Signer) -> Checkpoint:
        """This checkpoint with ``signer``'s key id and signature."""
        unsigned = replace(self, key_id=signer.key_id, signature="")
        return replace(unsigned, signature=signer.sign(unsigned.message()))


class Signer:
    """Signs checkpoints with a private key."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.verifier = Verifier(key.public_key())
        self.key_id = self.verifier.key_id

    def sign(self, data: bytes) -> str:
        return self._key.sign(data).hex()


class Verifier:
    """Checks checkpoint signatures with a public key."""

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    def verify(self, checkpoint: Checkpoint) -> bool:
        try:
            self._key.verify(bytes.fromhex(checkpoint.signature), checkpoint.message())
        except (InvalidSignature, ValueError):
            return False
        return True


def public_path(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".pub")


def load_signer(path: Path) -> tuple[Signer, bool]:
    """The key in ``path``, made (readable by its owner only) when there is none; True
    when it was made now."""
    created = False
    if not path.exists():
        created = _create(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"cannot read the audit signing key {path}: {exc.strerror}") from exc
    key = _private(data, path)
    if key is None:
        raise AuditError(f"{path} is not an Ed25519 private key (PEM, PKCS#8)")
    return Signer(key), created


def open_to_others(path: Path) -> bool:
    """True when anyone but its owner and group may read the key file (a Kubernetes
    Secret is the group's)."""
    try:
        return bool(path.stat().st_mode & stat.S_IRWXO)
    except OSError:
        return False


def load_verifier(path: Path) -> Verifier:
    """The public key of ``path``: a private key file, or a public one (``.pub``)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"cannot read the audit key {path}: {exc.strerror}") from exc
    private = _private(data, path)
    if private is not None:
        return Verifier(private.public_key())
    try:
        public = serialization.load_pem_public_key(data)
    except ValueError:
        public = None
    if not isinstance(public, Ed25519PublicKey):
        raise AuditError(f"{path} is not an Ed25519 key (PEM)")
    return Verifier(public)


def _private(data: bytes, path: Path) -> Ed25519PrivateKey | None:
    if b"PRIVATE KEY" not in data:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise AuditError(f"{path} is not a usable private key: {exc}") from exc
    return key if isinstance(key, Ed25519PrivateKey) else None


def _create(path: Path) -> bool:
    """Write a new key to ``path`` whole or not at all; False when another process was
    first (its key is the one used)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(part, path)  # fails if another process made one meanwhile
        except FileExistsError:
            return False
        finally:
            part.unlink()
        public_path(path).write_bytes(public)
    except OSError as exc:
        raise AuditError(
            f"cannot create the audit signing key {path}: {exc.strerror}"
            " (set [audit] key_file to a writable place)"
        ) from exc
    return True
