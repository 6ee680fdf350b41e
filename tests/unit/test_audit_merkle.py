"""The audit log's Merkle tree: RFC 6962's reference vectors, and every proof checked
against the tree's definition for random sizes (hypothesis)."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# Certificate Transparency's reference data (RFC 6962 test vectors).
DATA = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
        "5051525354555657", "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H96 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H5F = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H6B = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
HBC = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
HCA = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
HD3 = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
H0E = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
INCLUSION = [(0, 8, [H96, H5F, H6B]), (5, 8, [HBC, HCA, HD3]), (2, 3, [ROOTS[2]])]
CONSISTENCY = [(1, 1, []), (1, 8, [H96, H5F, H6B]), (6, 8, [H0E, HCA, HD3]), (2, 5, [H5F, HBC])]
LEAVES = [leaf_hash(d) for d in DATA]


def test_the_reference_roots() -> None:
    assert [tree_root(LEAVES[:n]).hex() for n in range(9)] == ROOTS


def test_the_reference_proofs() -> None:
    for index, size, path in INCLUSION:
        got = inclusion_proof(index, LEAVES[:size])
        assert [p.hex() for p in got] == path
        root = bytes.fromhex(ROOTS[size])
        assert verify_inclusion(LEAVES[index], index, size, got, root)
    for old, new, path in CONSISTENCY:
        got = consistency_proof(old, LEAVES[:new])
        assert [p.hex() for p in got] == path
        roots = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
        assert verify_consistency(old, roots[0], new, roots[1], got)


def _mth(leaves: list[bytes]) -> bytes:
    # The definition itself (RFC 6962 §2.1), independent of the module's code.
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(b"record-%d" % i) for i in range(n)]


@given(n=st.integers(1, 70), data=st.data())
def test_inclusion_proofs_verify_and_nothing_else_does(n: int, data: st.DataObject) -> None:
    leaves = _leaves(n)
    root = _mth(leaves)
    assert tree_root(leaves) == root
    index = data.draw(st.integers(0, n - 1))
    path = inclusion_proof(index, leaves)
    assert verify_inclusion(leaves[index], index, n, path, root)
    other = data.draw(st.integers(0, n - 1).filter(lambda i: i != index)) if n > 1 else None
    if other is not None:  # the proof is for this leaf at this place, not another
        assert not verify_inclusion(leaves[other], index, n, path, root)
        assert not verify_inclusion(leaves[index], other, n, path, root)
    if path:
        bent = [*path[:-1], hashlib.sha256(path[-1]).digest()]
        assert not verify_inclusion(leaves[index], index, n, bent, root)
    assert not verify_inclusion(leaves[index], index, n, path, _mth(_leaves(n + 1)))


@given(n=st.integers(1, 70), data=st.data())
def test_consistency_proofs_verify_only_for_a_true_prefix(n: int, data: st.DataObject) -> None:
    leaves = _leaves(n)
    m = data.draw(st.integers(1, n))
    path = consistency_proof(m, leaves)
    old_root, root = _mth(leaves[:m]), _mth(leaves)
    assert verify_consistency(m, old_root, n, root, path)
    # A log that rewrote one of the first m records is not an extension of the old one.
    changed = data.draw(st.integers(0, m - 1))
    rewritten = [*leaves[:changed], leaf_hash(b"forged"), *leaves[changed + 1 :]]
    assert not verify_consistency(m, old_root, n, _mth(rewritten), path)
    assert not verify_consistency(m, old_root, n, _mth(rewritten), consistency_proof(m, rewritten))
