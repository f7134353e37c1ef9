"""How the Whoosh index keeps a posting's word positions: `PackedPositions`, the positions
themselves as an array of unsigned ints, and `position_list`, which reads them back (and
reads an older index's pickled deltas too); `pairs_at` and `pairs_near` read two words'
positions in many documents at once.

Whoosh's own `Positions` format pickles the list of deltas between positions. Reading
them back is an unpickling and a running sum in Python per posting, and a phrase or a
proximity reads two or three postings for every candidate document: at 50k documents,
`"stock option"~5` has 14,615 candidates, whose positions took 105 ms to decode, and
10 ms read as arrays of the positions themselves (no sum: they are the positions).
Encoding them is one C call too, where Whoosh's loops over them in Python (0.26 → 0.16
s for the postings of 14 MB of text: a few percent of a build). The cost is space:
Whoosh compresses a block's values together, and absolute positions compress less well
than small deltas (the index 17% bigger, 1,700 → 1,982 MB).

Whoosh pickles each posting block (its ids, weights and these values) with pickle
protocol 2, which has no opcode for bytes: each value is pickled as a call to
`_codecs.encode` of a Latin-1 string, and unpickling a block makes that call once per
posting. `PICKLE_PROTOCOL` writes them with protocol 5 instead, whose bytes are read
directly: unpickling every block of "stock" (231 blocks at 50k documents, fastest of
five) took 24.7 ms, and takes 3.2; the blocks are a fifth smaller once compressed and
decompress in two thirds of the time (the whole index: 2,113 → 1,221 MB). Unpickling
reads either protocol, so blocks written before (an older index, or its older segments)
read as they did.
"""
from __future__ import annotations

import sys
from array import array
from itertools import accumulate, compress
from operator import itemgetter
from pickle import dumps, loads

import numpy as np
from whoosh import formats
from whoosh.codec import whoosh3
from whoosh.system import _INT_SIZE, pack_uint

_SWAP = sys.byteorder != "little"  # arrays are kept little-endian, whatever the machine
_PICKLE = 0x80  # the first byte of a pickle (PROTO): an older index's deltas


class PackedPositions(formats.Positions):
    """Whoosh's Positions, its count of positions first (frequency and weight read it
    as before), then 'H' and the ascending positions as 16-bit unsigned ints while the
    last fits, else 'I' and 32-bit ones, little-endian."""

    def encode(self, poslist):
        code = "H" if not poslist or poslist[-1] < 65536 else "I"
        packed = array(code, poslist)
        if _SWAP:
            packed.byteswap()
        return pack_uint(len(packed)) + code.encode() + packed.tobytes()

    def decode_positions(self, valuestring):
        return list(position_list(valuestring))


def position_list(value: bytes):
    """A posting's positions, ascending (a sequence of ints): from `PackedPositions`, or
    from Whoosh's `Positions` (a pickled list of deltas) in an index built before it.
    Whoosh's decoder allows for a pickle stored without its closing STOP; one is
    appended whether or not it is there, since unpickling ignores what follows."""
    code = value[_INT_SIZE]
    if code == _PICKLE:
        return list(accumulate(loads(value[_INT_SIZE:] + b".")))
    positions = array(chr(code), value[_INT_SIZE + 1:])
    if _SWAP:
        positions.byteswap()
    return positions


# --- Two words' positions in many documents at once ----------------------------------------
#
# A phrase of two tokens and a proximity of two words test thousands of candidate
# documents. Tested one document at a time, each costs a Python loop over its positions;
# here every candidate's positions become one array of keys, (candidate's index << _DOC)
# + (position << 1) + which word (0 or 1), both words' keys are sorted together (runs
# already in order: merging them is linear), and the test reads neighbouring keys.

_DOC = 34  # above a position (< 2^32), doubled, and its word's bit
# A shift or a slop this large could reach from one candidate's keys into another's
# (the query language allows a slop of 100).
_REACH = 2**31
_CODE = itemgetter(slice(_INT_SIZE, _INT_SIZE + 1))
_PAYLOAD = itemgetter(slice(_INT_SIZE + 1, None))
_PACKED = ((ord("H"), np.dtype("<u2")), (ord("I"), np.dtype("<u4")))
# Encoded bytes read at once (or one document's, if more): at their peak a batch's arrays
# took 12.7 bytes per byte read ("stock option"~5 at 50k documents, 1.64 MB of
# positions, 20.8 MB), so about 25 MB however common the words.
PAIR_BATCH_BYTES = 2_000_000


def pairs_at(first: list[bytes], second: list[bytes], shift: int) -> list[int] | None:
    """The indexes i where some position of first[i] plus `shift` is one of
    second[i]'s (each a posting's encoded positions), ascending; None when some value
    is not `PackedPositions`' (an older index: test those one by one)."""
    return _pairs(first, second, shift, None, False)


def pairs_near(first: list[bytes], second: list[bytes], slop: int, ordered: bool,
               mindist: int) -> list[int] | None:
    """The indexes i where a position of first[i] and one of second[i] are at most
    `slop` apart (and the first's before the second's when `ordered`): `pair_near`, of
    two *different* words (whose positions never coincide: the test reads only
    neighbouring keys, and a word near itself needs the pairs between). None as in
    `pairs_at`, and when `mindist` is above 1 (neighbours alone cannot tell)."""
    if mindist > 1:
        return None
    return _pairs(first, second, 0, slop, ordered)


def _pairs(first, second, shift, slop, ordered) -> list[int] | None:
    if abs(shift) >= _REACH or (slop is not None and slop >= _REACH):
        return None  # past a key's room for a position: one document at a time
    sizes = np.fromiter(map(len, first), np.int64, len(first))
    sizes += np.fromiter(map(len, second), np.int64, len(second))
    ends = np.cumsum(sizes)
    held, start = [], 0
    while start < len(first):
        # At least one document, and as many more as the batch's bytes allow.
        done = ends[start - 1] if start else 0
        end = max(start + 1, int(np.searchsorted(ends, done + PAIR_BATCH_BYTES, "right")))
        keys = [*_keys(first[start:end], 0, shift), *_keys(second[start:end], 1, 0)]
        if any(k is None for k in keys):
            return None
        merged = np.concatenate(keys)
        merged.sort(kind="stable")
        if slop is not None:  # +1 where the first word's key is followed by the second's
            change = np.diff((merged & 1).astype(np.int8))
        merged >>= 1  # (index << _DOC - 1) + position
        apart = np.diff(merged)
        if slop is None:  # the same position, so one word's and the other's
            hit = apart == 0
        else:  # two different words: never at the same position
            hit = apart <= slop
            hit &= (change == 1) if ordered else (change != 0)
        held.extend((np.unique(merged[1:][hit] >> _DOC - 1) + start).tolist())
        start = end
    return held


def _keys(values: list[bytes], word: int, shift: int) -> list:
    """The keys of the values' positions (plus `shift`): one sorted array per packing
    ('H' or 'I'), or [None] when a value is not packed."""
    codes = np.frombuffer(b"".join(map(_CODE, values)), np.uint8)
    keys, covered = [], 0
    for code, dtype in _PACKED:
        chosen = codes == code
        count = int(np.count_nonzero(chosen))
        if not count:
            continue
        covered += count
        group = values if count == len(values) else list(compress(values, chosen.tolist()))
        payloads = list(map(_PAYLOAD, group))
        positions = np.frombuffer(b"".join(payloads), dtype)
        counts = np.fromiter(map(len, payloads), np.int64, count) // dtype.itemsize
        # In place, one array: ((index << _DOC - 1) + position + shift) << 1 + word. A
        # negative position (shifted) lands above the previous document's real ones.
        key = np.repeat(np.flatnonzero(chosen).astype(np.int64) << _DOC - 1, counts)
        key += positions
        key += shift
        key <<= 1
        key += word
        keys.append(key)
    return keys if covered == len(values) else [None]


PICKLE_PROTOCOL = 5  # for posting blocks: protocol 2 (Whoosh's) pickles bytes as calls


def _dumps(obj, protocol=None) -> bytes:
    """`dumps` for Whoosh's codec, which asks for protocol 2: PICKLE_PROTOCOL
    (the codec's blocks of postings, their block headers and the postings it inlines in
    a term's entry; the codec reads them all with `pickle.loads`)."""
    return dumps(obj, PICKLE_PROTOCOL)


# The codec names `dumps` once, as a module global, for the pickles it writes; nothing
# else of Whoosh's is changed. Done on import: every process that builds this module's
# schema writes the index, including the rebuild's worker processes.
whoosh3.dumps = _dumps
