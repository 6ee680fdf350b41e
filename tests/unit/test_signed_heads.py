"""Signed tree heads: the compact range against the tree's definition, the signed format
(round trip, forgeries, the witness mock's own reading of it) and the key file."""

from __future__ import annotations

import base64
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.compact_range import CompactRange
from gateway.audit.head_keys import load_or_create_key, public_key_file, trusted_keys
from gateway.audit.merkle import leaf_hash, tree_root
from gateway.audit.signed_head import (
    HeadFormatError,
    SignedTreeHead,
    TreeHead,
    key_id,
    sign_head,
)
from gateway.settings import SettingsError, load_settings
from mocks import witness

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}

chains = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
roots = st.binary(min_size=32, max_size=32).map(bytes.hex)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
heads = st.builds(TreeHead, chains, st.integers(0, 2**53), roots, times)


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_compact_range_root_is_the_tree_root_at_every_size(data: list[bytes]) -> None:
    leaves = [leaf_hash(d) for d in data]
    tree = CompactRange()
    assert tree.root() == tree_root([])
    for n, leaf in enumerate(leaves, 1):
        tree.append(leaf)
        assert tree.size == n
        assert tree.root() == tree_root(leaves[:n])


@given(heads)
def test_a_signed_head_reads_back_and_verifies(head: TreeHead) -> None:
    signed = sign_head(head, KEY)
    again = SignedTreeHead.from_json(signed.to_json())
    assert again == signed
    assert again.check(TRUSTED) is None


@given(heads)
def test_the_witness_rebuilds_the_same_signed_bytes(head: TreeHead) -> None:
    # Two implementations of the written format: the gateway's and the witness mock's.
    signed = sign_head(head, KEY).to_json()
    assert witness._message(witness._parse(signed)) == sign_head(head, KEY).message()


@given(heads, st.sampled_from(["size", "root", "time", "chain"]))
def test_a_changed_field_breaks_the_signature(head: TreeHead, field: str) -> None:
    wire = sign_head(head, KEY).to_json()
    if field == "size":
        wire["size"] += 1
    elif field == "root":
        wire["root"] = ("0" if wire["root"][0] != "0" else "1") + wire["root"][1:]
    elif field == "time":
        wire["time"] = (head.time + timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        wire["chain"] += "x"
    assert "signature is not" in (SignedTreeHead.from_json(wire).check(TRUSTED) or "")


def test_a_head_signed_by_another_key_is_refused_either_way() -> None:
    head = TreeHead("main", 3, "ab" * 32, datetime(2026, 12, 5, tzinfo=UTC))
    foreign = sign_head(head, OTHER)
    assert "not a trusted key" in (foreign.check(TRUSTED) or "")
    # Claiming the trusted key's id does not help: the signature is not that key's.
    posing = SignedTreeHead(head, key_id(KEY.public_key()), foreign.signature)
    assert "signature is not" in (posing.check(TRUSTED) or "")


@pytest.mark.parametrize(
    "change",
    [
        {"chain": "a\nsize=9"},
        {"size": -1},
        {"size": True},
        {"root": "AB" * 32},
        {"time": "x"},
        {"key_id": "k"},
        {"signature": "!!"},
    ],
)
def test_malformed_heads_are_refused_by_both_readers(change: dict[str, object]) -> None:
    head = TreeHead("main", 3, "ab" * 32, datetime(2026, 12, 5, tzinfo=UTC))
    wire = {**sign_head(head, KEY).to_json(), **change}
    with pytest.raises(HeadFormatError):
        SignedTreeHead.from_json(wire)
    with pytest.raises(ValueError):
        witness._parse(wire)
        base64.b64decode(str(wire["signature"]), validate=True)


def test_the_key_file_is_made_0600_with_its_public_half(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "tree-head-key"
    key = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path).private_bytes_raw() == key.private_bytes_raw()
    assert list(trusted_keys(path, None)) == [key_id(key.public_key())]
    assert public_key_file(path).read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_key_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "tree-head-key"
    load_or_create_key(path)
    os.chmod(path, mode)
    with pytest.raises(SettingsError) as err:
        load_or_create_key(path)
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("heads.key_file: ") and f"{mode:04o}" in str(err.value)


def test_a_rotated_key_still_verifies_its_old_heads(tmp_path: Path) -> None:
    path, kept = tmp_path / "tree-head-key", tmp_path / "tree-head-keys"
    old = load_or_create_key(path)
    head = sign_head(TreeHead("main", 1, "cd" * 32, datetime(2026, 1, 1, tzinfo=UTC)), old)
    kept.mkdir()
    public_key_file(path).rename(kept / "2026-old.pub")  # as docs/architecture.md says
    path.unlink()
    new = load_or_create_key(path)
    assert key_id(new.public_key()) != head.key_id
    assert head.check(trusted_keys(path, kept)) is None
    assert head.check(trusted_keys(path, None)) is not None


def test_settings_fill_in_head_paths_and_refuse_a_foreign_witness(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.heads.key_file == tmp_path / "tree-head-key"
    assert settings.heads.witness == str(tmp_path / "tree-heads")
    with pytest.raises(SettingsError) as err:
        load_settings(data_dir=tmp_path, heads={"witness": "ftp://x"})
    assert err.value.keys == ["heads"]
    with pytest.raises(SettingsError):
        load_settings(data_dir=tmp_path, heads={"every_records": 0})
