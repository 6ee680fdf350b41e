"""The tree-head signing key, kept in a file outside the database, and the trusted keys.

The key is an Ed25519 private key in PKCS#8 PEM (``openssl pkey`` reads it), made on first
start with mode 0600 and refused when its mode lets anyone but the owner read it. Its
public half is written beside it (``<key file>.pub``, SubjectPublicKeyInfo PEM): copy that
file to whoever verifies.

Rotation: move the key file away (keep it offline or destroy it), put its ``.pub`` in the
trusted-keys folder (``heads.trusted_keys_dir``), and restart; a new key is made. Heads
signed by the old key still verify, because verifiers trust every ``*.pub`` in the folder
as well as the current key's own ``.pub``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from gateway.audit.signed_head import key_id
from gateway.settings import SettingsError

__all__ = ["load_or_create_key", "public_key_file", "trusted_keys"]

_SETTING = "heads.key_file"


def public_key_file(key_file: Path) -> Path:
    """Where the public half of ``key_file`` is written."""
    return key_file.with_name(key_file.name + ".pub")


def _refuse_wide_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SettingsError(
            f"{_SETTING}: {path} has mode {mode:04o}; it must be readable by its owner only "
            f"(chmod 600 {path})",
            [_SETTING],
        )


def _read_key(path: Path) -> Ed25519PrivateKey:
    _refuse_wide_mode(path)
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(f"{_SETTING}: {path} is not a PEM private key", [_SETTING]) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError(f"{_SETTING}: {path} is not an Ed25519 key", [_SETTING])
    return key


def _write_public(key: Ed25519PrivateKey, key_file: Path) -> None:
    pub = public_key_file(key_file)
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    if not pub.exists() or pub.read_bytes() != pem:
        pub.write_bytes(pem)


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key at ``path``, made there (mode 0600) if the file does not exist.

    Several processes starting at once end up with the one key that won the race: the new
    key is written to a temporary file and hard-linked into place, never overwriting.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")  # mode 0600
        try:
            pem = Ed25519PrivateKey.generate().private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
            )
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    key = _read_key(path)
    _write_public(key, path)
    return key


def _read_public(path: Path) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(path.read_bytes())
    except (ValueError, TypeError):
        raise SettingsError(f"heads.trusted_keys_dir: {path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SettingsError(f"heads.trusted_keys_dir: {path} is not an Ed25519 public key")
    return key


def trusted_keys(key_file: Path | None, trusted_dir: Path | None) -> dict[str, Ed25519PublicKey]:
    """Every key a verifier trusts, by key id: the current key's ``.pub`` (when present)
    and each ``*.pub`` in ``trusted_dir``. Reading needs no private key."""
    files: list[Path] = []
    if key_file is not None and public_key_file(key_file).is_file():
        files.append(public_key_file(key_file))
    if trusted_dir is not None and trusted_dir.is_dir():
        files.extend(sorted(trusted_dir.glob("*.pub")))
    keys = (_read_public(f) for f in files)
    return {key_id(k): k for k in keys}
