"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0) section 2.1, over SHA-256.

Everything here works on leaf hashes (`leaf_hash` of the entry), so a caller can keep 32 bytes
a leaf instead of the entries themselves. Proof generation raises ValueError for arguments that
name no proof; the verifiers never raise and answer False for anything that does not verify.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_sha256 = hashlib.sha256

EMPTY_ROOT = _sha256(b"").digest()
"""MTH({}) = SHA-256 of the empty string, the root of the tree with no leaves."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


class TreeBuilder:
    """The root of a growing tree, one leaf hash at a time, in O(log n) memory.

    The stack holds the roots of the complete subtrees the leaves so far fall into, largest
    first, one for each 1 bit of the size. Appending a leaf merges it with the stack's top as
    long as the old size has trailing 1 bits, as adding 1 to a binary number carries.
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._size = 0
        self._stack: list[bytes] = []

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        if len(leaf_hash) != 32:
            raise ValueError("ett lövs hash ska vara 32 byte")
        stack = self._stack
        n = self._size
        h = leaf_hash
        while n & 1:
            h = _sha256(b"\x01" + stack.pop() + h).digest()
            n >>= 1
        stack.append(h)
        self._size += 1

    def root(self) -> bytes:
        """MTH of the leaves appended so far: the subtree roots folded from the right."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        h = stack[-1]
        for i in range(len(stack) - 2, -1, -1):
            h = _sha256(b"\x01" + stack[i] + h).digest()
        return h


def _range_root(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    builder = TreeBuilder()
    for i in range(lo, hi):
        builder.append(leaves[i])
    return builder.root()


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over the given leaf hashes."""
    return _range_root(leaves, 0, len(leaves))


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size(leaves: Sequence[bytes], size: int) -> None:
    if size < 0 or size > len(leaves):
        raise ValueError(f"trädets storlek {size} ligger utanför 0..{len(leaves)}")


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1, over the leaf hashes leaves[:size]."""
    _check_size(leaves, size)
    if index < 0 or index >= size:
        raise ValueError(f"lövet {index} finns inte i ett träd med {size} löv")
    # Walk down from the root; the siblings met on the way are the path, read bottom-up.
    siblings: list[bytes] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            siblings.append(_range_root(leaves, lo + k, hi))
            hi = lo + k
        else:
            siblings.append(_range_root(leaves, lo, lo + k))
            lo, m = lo + k, m - k
    siblings.reverse()
    return siblings


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 9162 section 2.1.4.1 (SUBPROOF unrolled).

    Equal sizes, and an old size of 0, give the empty proof (see `verify_consistency`).
    """
    _check_size(leaves, new_size)
    if old_size < 0 or old_size > new_size:
        raise ValueError(f"ett träd med {old_size} löv kan inte föregå ett med {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    lo, hi, m, whole = 0, new_size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(_range_root(leaves, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_range_root(leaves, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        proof.append(_range_root(leaves, lo, hi))
    proof.reverse()
    return proof


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """The verification algorithm of RFC 9162 section 2.1.3.2, step by step.

    A leaf hash that is not 32 bytes long is refused beforehand, as transparency-dev/merkle does.
    """
    if index < 0 or index >= size or len(leaf_hash) != 32:
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """The verification algorithm of RFC 9162 section 2.1.4.2, step by step, for 0 < m < n.

    Edge cases: equal sizes need the empty proof and equal roots; an old size larger than the
    new one never verifies. RFC 9162 defines no proof from the empty tree (and the Go package
    transparency-dev/merkle rejects it); here the empty tree is taken to be consistent with
    every tree, through the empty proof, provided the old root is `EMPTY_ROOT` (and so is the
    new one when it too has no leaves).
    """
    if old_size < 0 or old_size > new_size:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
