"""Item sections of 10-K, 10-Q and 8-K documents: where "Item 1A. Risk Factors" starts and
ends in a document's plain text (`filings.text`), and anchors for them in its display HTML.

Pure Python (no Django): runs in the derive step of ingest (`filings.ingest`).

Real filings repeat their headings: a table of contents lists every item, 1990s text
filings repeat "Item 1. Business (Continued)" on every page, and prose refers to "Item 7
of this Form 10-K". So every line that looks like an item heading is a candidate, and the
sections are the longest run of candidates in the form's order (Part I before Part II,
Item 1 before 1A before 2), taking each as late in the text as possible: a table of
contents comes first and lists the same items as the body, so the body's headings win;
a running header repeats the item already open and only continues it. Candidates ending
in a page number ("Item 1A. Risk Factors 12") are index lines, never headings. The run is
found in O(n log n) of the candidates, and the candidates by one scan of the lines.
"""
from __future__ import annotations

import html as _html
import re
from bisect import bisect_left
from dataclasses import asdict, dataclass

# Main document types with item sections, amendments (/A) included.
ANNUAL = {"10-K", "10-K405", "10-KSB", "10-KSB40", "10-KT", "10-K405T"}
QUARTERLY = {"10-Q", "10-QSB", "10-QT"}
CURRENT = {"8-K"}
MAX_CANDIDATES = 20_000  # heading-like lines looked at (a real 10-K has a few hundred)
TITLE_CHARS = 120

_HEADING = re.compile(
    r"""
    (?P<part>PART[ \t\xa0]+(?P<roman>IV|I{1,3})[ \t\xa0]*[.,:\-\u2013\u2014]?[ \t\xa0]*)?
    ITEM[ \t\xa0]*
    (?P<number>\d{1,2}(?:\.\d{2})?)[ \t\xa0]*(?P<letter>[A-C])?(?![\w.]\d|[\w])
    (?P<rest>.*)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_PART = re.compile(r"PART[ \t\xa0]+(?P<roman>IV|I{1,3})\b(?P<rest>.*)", re.IGNORECASE)
_SEPARATORS = " \t\xa0.:-\u2013\u2014"
# An index line: the title followed by a page number or range ("Risk Factors 12", "6 - 12").
_PAGE_NUMBER = re.compile(r"[\s.]\d{1,3}(?:\s*[-\u2013]\s*\d{1,3})?\s*$")
_SIGNATURES = re.compile(r"SIGNATURES?[\s.:]*$", re.IGNORECASE)
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}


@dataclass
class Section:
    item: str  # "1A", "7", "2.02"
    part: str  # "I", "II"... or "" when the document names no part
    title: str
    start: int  # offsets in the plain text: the heading's line ...
    end: int  # ... to the next section's heading (or the signatures, or the end)
    anchor: str = ""  # the id of its place in the display HTML ("item-1a")
    html_offset: int = -1  # where that place is in the display HTML (its page's start)
    heading: int = 0  # offset of the word "Item" of its heading

    def stored(self) -> dict:
        """As `Document.sections` holds it."""
        fields = asdict(self)
        del fields["heading"]
        return fields


def family(doc_type: str) -> str | None:
    """"annual", "quarterly" or "current" for a document type with item sections."""
    base = (doc_type or "").upper().strip().removesuffix("/A")
    if base in ANNUAL:
        return "annual"
    if base in QUARTERLY:
        return "quarterly"
    if base in CURRENT:
        return "current"
    return None


def normal_item(value: str) -> str:
    """An item as typed in a query or an address: "1a" → "1A", "2.02" stays, "07" → "7"."""
    value = (value or "").strip().upper().removeprefix("ITEM").strip()
    match = re.fullmatch(r"0*(\d{1,2})(\.\d{2})?([A-C]?)", value)
    if not match:
        return ""
    number, decimals, letter = match.groups()
    return f"{number}{decimals or ''}{letter}"


def token(item: str) -> str:
    """The item as it prefixes a word in the index ("1a"), see search.index."""
    return item.lower()


def _valid(kind: str, number: str, letter: str) -> bool:
    if kind == "current":
        if "." in number:
            major = int(number.split(".")[0])
            return 1 <= major <= 9 and not letter
        return 1 <= int(number) <= 12 and not letter
    if "." in number:
        return False
    return 1 <= int(number) <= (16 if kind == "annual" else 6)


def _order(item: str) -> tuple:
    number, _, letter = re.match(r"([\d.]+)([A-C]?)", item).group(1, 1, 2)
    major, _, minor = number.partition(".")
    return int(major), int(minor or 0), letter


@dataclass
class _Candidate:
    item: str
    part: str
    start: int
    heading: int
    title: str
    next_line: str

    def key(self, quarterly: bool) -> tuple:
        return (_ROMAN.get(self.part, 0) if quarterly else 0, *_order(self.item))


# A 10-Q's items are numbered afresh in Part II: their titles tell the parts apart where
# the body names no part (an index's "PART II" line is then the last one read).
_PART_I_TITLES = re.compile(r"\W*(financial\s+statements|management.{0,3}s\s+discussion|"
                            r"quantitative\s+and\s+qualitative|controls\s+and\s+procedures)",
                            re.IGNORECASE)
_PART_II_TITLES = re.compile(r"\W*(legal\s+proceedings|risk\s+factors|unregistered|changes\s+in"
                             r"\s+securities|defaults|submission\s+of\s+matters|mine\s+safety|"
                             r"other\s+information|exhibits)", re.IGNORECASE)


def _quarterly_part(item: str, title: str) -> str:
    if item in ("1", "2", "3", "4") and _PART_I_TITLES.match(title.lstrip(_SEPARATORS)):
        return "I"
    if _PART_II_TITLES.match(title.lstrip(_SEPARATORS)):
        return "II"
    return ""


def _title(rest: str, next_line: str) -> str:
    title = rest.strip(_SEPARATORS).replace("\t", " ")
    if not re.search(r"\w", title):
        title = next_line.strip().replace("\t", " ") if len(next_line) < 200 else ""
        if _HEADING.match(next_line) or _PART.match(next_line):
            title = ""
    if len(title) > TITLE_CHARS:
        stop = re.search(r"\.\s", title[10 : TITLE_CHARS + 40])
        if stop:
            title = title[: stop.start() + 10]
        else:
            title = title[:TITLE_CHARS].rsplit(" ", 1)[0] + "\u2026"
    return title.strip(" .:\u2013\u2014-")


def _candidates(text: str, kind: str) -> tuple[list[_Candidate], list[int], list[int]]:
    """Heading-like lines in order, and where signature headings and part headings
    ("PART II - OTHER INFORMATION") stand."""
    found: list[_Candidate] = []
    signatures: list[int] = []
    part_lines: list[int] = []
    part = ""
    position = 0
    lines = text.split("\n")
    for number, line in enumerate(lines):
        start = position
        position += len(line) + 1
        stripped = line.lstrip(" \t\xa0")
        if not stripped or len(found) >= MAX_CANDIDATES:
            continue
        first = stripped[:1].upper()
        if first == "S" and _SIGNATURES.match(stripped):
            signatures.append(start)
            continue
        if first not in "IP":
            continue
        heading = _HEADING.match(stripped)
        if heading is None:
            whole_part = _PART.match(stripped)
            # "PART II - OTHER INFORMATION", not "Part II, Item 7 of this report".
            if whole_part and len(stripped) < 100 and not re.search(
                    r"\bitem\b", whole_part["rest"], re.IGNORECASE):
                part = whole_part["roman"].upper()
                part_lines.append(start)
            continue
        rest = heading["rest"]
        after = rest.lstrip(" \t\xa0")
        # Prose that names an item ("Item 7 of this report", "Item 1, Business"), an
        # index line ending in its page number: not headings.
        if after[:1].islower() or after[:1] in ",;(\u201d\"'" or _PAGE_NUMBER.search(rest):
            continue
        letter = (heading["letter"] or "").upper()
        if not _valid(kind, heading["number"], letter):
            continue
        if heading["roman"]:
            part = heading["roman"].upper()
        item = normal_item(heading["number"] + letter)
        if not item:
            continue
        next_line = lines[number + 1] if number + 1 < len(lines) else ""
        if kind == "quarterly":
            part = _quarterly_part(item, f"{rest} {next_line}") or part
        indent = len(line) - len(stripped)
        item_at = start + indent + (heading.end("part") if heading["part"] else 0)
        found.append(_Candidate(item, part, start, item_at, rest, next_line))
    return found, signatures, part_lines


def _latest_chain(keys: list[tuple]) -> list[int]:
    """Indexes of a longest strictly increasing run of `keys`, each taken as late as the
    run allows. O(n log n): the chain length starting at each index, from the right,
    through a Fenwick tree of suffix maxima over the ranks of the keys."""
    if not keys:
        return []
    ranks = {k: r for r, k in enumerate(sorted(set(keys)))}
    size = len(ranks)
    tree = [0] * (size + 1)  # over reversed ranks: prefix max = max over larger keys

    def best_above(rank: int) -> int:
        i, best = size - 1 - rank, 0  # positions 1..size-1-rank hold larger keys
        while i > 0:
            best = max(best, tree[i])
            i -= i & -i
        return best

    def record(rank: int, value: int):
        i = size - rank
        while i <= size:
            tree[i] = max(tree[i], value)
            i += i & -i

    lengths = [0] * len(keys)
    for index in range(len(keys) - 1, -1, -1):
        rank = ranks[keys[index]]
        lengths[index] = best_above(rank) + 1
        record(rank, lengths[index])
    longest = max(lengths)
    by_length: dict[int, list[int]] = {}
    for index, length in enumerate(lengths):
        by_length.setdefault(length, []).append(index)
    chain: list[int] = []
    previous = None
    for length in range(longest, 0, -1):
        for index in reversed(by_length[length]):
            if previous is None or (index > previous and keys[index] > keys[previous]):
                chain.append(index)
                previous = index
                break
        else:
            break
    return chain


def find_sections(doc_type: str, text: str) -> list[Section]:
    """The item sections of a main document's plain text, in order; [] when its type has
    none or no heading is found."""
    kind = family(doc_type)
    if kind is None or not text:
        return []
    candidates, signatures, part_lines = _candidates(text, kind)
    quarterly = kind == "quarterly"
    # A heading repeated with no other between (running headers) continues its section.
    collapsed: list[_Candidate] = []
    for candidate in candidates:
        if collapsed and collapsed[-1].key(quarterly) == candidate.key(quarterly):
            continue
        collapsed.append(candidate)
    chosen = [collapsed[i] for i in _latest_chain([c.key(quarterly) for c in collapsed])]
    sections: list[Section] = []
    for index, candidate in enumerate(chosen):
        if index + 1 < len(chosen):
            end = chosen[index + 1].start
        else:
            after = bisect_left(signatures, candidate.start + 1)
            end = signatures[after] if after < len(signatures) else len(text)
        # A part's heading before the next item belongs to neither section.
        last_part = bisect_left(part_lines, end) - 1
        if last_part >= 0 and part_lines[last_part] > candidate.heading:
            end = part_lines[last_part]
        sections.append(Section(candidate.item, candidate.part,
                                _title(candidate.title, candidate.next_line),
                                candidate.start, end, heading=candidate.heading))
    _name_anchors(sections)
    return sections


def _name_anchors(sections: list[Section]):
    """`item-1a`; where an item is in two parts (a 10-Q's Items 1 and 2),
    `part-ii-item-1` for each but the first."""
    used = set()
    for section in sections:
        anchor = "item-" + section.item.lower().replace(".", "-")
        if anchor in used:
            anchor = f"part-{section.part.lower() or 'x'}-{anchor}"
        while anchor in used:
            anchor += "-2"
        used.add(anchor)
        section.anchor = anchor


# --- Anchors in the display HTML ------------------------------------------------------------

_PIECE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>|<!--.*?-->|<[^>]*>|[^<]+", re.S)
_BLOCK = frozenset(
    "p div td th tr li br h1 h2 h3 h4 h5 h6 table tbody thead pre dt dd blockquote hr "
    "section article ul ol center".split())


_ITEM = re.compile(r"\bitem\s*(\d{1,2}(?:\.\d{2})?)(?:\s*([A-Ca-c]))?(?![0-9A-Za-z]|\.\d)",
                   re.IGNORECASE)


def _item_places(text: str, end: int | None = None) -> dict[str, list[int]]:
    """Where each item is named ("Item 1A", "ITEM\xa07."), by one scan."""
    places: dict[str, list[int]] = {}
    for match in _ITEM.finditer(text, 0, len(text) if end is None else end):
        item = normal_item(match.group(1) + (match.group(2) or ""))
        places.setdefault(item, []).append(match.start())
    return places


def add_anchors(html: str, text: str, sections: list[Section]) -> str:
    """`html` with an empty `<span id="item-1a">` before each section's heading.

    The heading is the k-th "Item 1A" of the plain text (k counted up to its offset);
    the same k-th is found in the HTML's text (tags out, entities read, a line break at
    each block), and the anchor goes before the text node where it starts. A section whose
    heading cannot be found so gets no anchor (its link then opens the document's top)."""
    if not sections or not html:
        return html
    stream: list[str] = []
    starts: list[int] = []  # stream offset of each text node
    places: list[int] = []  # html offset of each text node
    length = 0
    for match in _PIECE.finditer(html):
        if match.group(0).startswith("<"):
            if match.group(2) and match.group(2).lower() in _BLOCK:
                stream.append("\n")
                length += 1
            continue
        piece = match.group(0)
        if "&" in piece:
            piece = _html.unescape(piece)
        starts.append(length)
        places.append(match.start())
        stream.append(piece)
        length += len(piece)
    flat = "".join(stream)
    in_text = _item_places(text)
    in_html = _item_places(flat)
    targets: list[tuple[int, Section]] = []
    for section in sections:
        k = bisect_left(in_text.get(section.item, []), section.heading)
        named = in_html.get(section.item, [])
        if k >= len(named):
            section.anchor = ""
            continue
        targets.append((named[k], section))
    # In order of place, so that a node holding several headings (a 1990s text document
    # is one node) is read once from its start, not once per heading.
    inserts: list[tuple[int, Section]] = []
    walked = (-1, 0, 0)  # node, html offset reached in it, characters read to there
    for found, section in sorted(targets, key=lambda pair: pair[0]):
        node = max(0, bisect_left(starts, found + 1) - 1)
        if walked[0] != node:
            walked = (node, places[node], 0)
        position, read = _raw_offset(html, walked[1], found - starts[node] - walked[2])
        walked = (node, position, walked[2] + read)
        inserts.append((position, section))
    out, last, shift = [], 0, 0
    for place, section in sorted(inserts, key=lambda pair: pair[0]):
        out.append(html[last:place])
        span = f'<span id="{section.anchor}" class="section-anchor"></span>'
        section.html_offset = place + shift
        out.append(span)
        shift += len(span)
        last = place
    out.append(html[last:])
    return "".join(out)


_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?|[^&]+|&")


def _raw_offset(html: str, place: int, delta: int) -> tuple[int, int]:
    """The offset in `html` of the `delta`-th character of text from `place` inside a
    text node, as read with its entities (a 1990s text document is one long node), and
    how many characters were read to get there (fewer than `delta` inside an entity).

    In strides, not an entity at a time (a crafted node holds a million): `delta` raw
    characters read as `delta` or fewer (no entity reads longer than it is written), so
    the next `delta` of them, cut before their last "&" so that no entity is cut, are
    read at once; an entity left at the front is read alone."""
    position, wanted = place, delta
    while delta > 0:
        chunk = html[position : position + delta]
        if not chunk or chunk[0] == "<":
            break
        cut = chunk.rfind("&")
        if cut > 0:
            chunk = chunk[:cut]
        elif cut == 0:
            match = _ENTITY.match(html, position)
            read = len(_html.unescape(match.group(0)))
            if read > delta:
                break
            position = match.end()
            delta -= read
            continue
        position += len(chunk)
        delta -= len(_html.unescape(chunk)) if "&" in chunk else len(chunk)
    return position, wanted - delta
