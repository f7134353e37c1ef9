"""How the Whoosh index keeps a posting's word positions: `PackedPositions`, the positions
themselves as an array of unsigned ints, and `position_list`, which reads them back (and
reads an older index's pickled deltas too).

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
from itertools import accumulate
from pickle import dumps, loads

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
