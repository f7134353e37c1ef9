"""Display pages of a very large document: where its sanitized HTML is cut, and each
page made well-formed again (the elements open at a cut are closed before it and reopened
after it). Pure Python, no Django: breaks are computed once at ingest.

A document of up to WHOLE_CHARS characters is shown whole and has no breaks. A longer one
gets `page_breaks`: one `[offset, opening, byte_offset]` per page after the first, where
`offset` is where that page starts in the stored HTML (in characters; `byte_offset` the
same place in its UTF-8 encoding) and `opening` the start tags of the elements open there,
outermost first (copied from the HTML, so as sanitized as the rest of it). A page is then
`opening of its start + html[start:end] + closing of its end`.

Cuts fall between elements, as shallow in the tree as the page's size window allows, and
avoid the inside of table rows, cells, list items and paragraphs; only a text run with no
element boundary in the window (a plain-text filing's one `<pre>`) is cut inside, after a
line end where there is one, and never inside a character reference.
"""
from __future__ import annotations

import re

PAGE_CHARS = 1_000_000  # the most a page holds unless one element is larger
MIN_PAGE_CHARS = PAGE_CHARS // 2
WHOLE_CHARS = 2_000_000  # documents up to this size are one page
# A start tag longer than this (a huge style attribute) is reopened without attributes,
# so that the stored breaks stay small whatever the filing holds.
MAX_REOPENED_TAG = 2_000

# A tag of serialized, sanitized HTML: attribute values are quoted and hold no `<`
# (the serializers escape it), so a value never runs past the next tag.
TAG = re.compile(r"""<(/?)([A-Za-z][A-Za-z0-9]*)(?:[^<>"']++|"[^"<]*+"|'[^'<]*+')*+>""")
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# What a cut costs inside each element: plain containers (reopened, they look the same)
# cost 1, table and list bodies 10 (rows and items start afresh), anything else 100 (a
# cut there splits a paragraph, a row, a cell or an item in two).
_CHEAP = frozenset(
    """div section article header footer aside blockquote center font span nobr b strong i
    em u s strike del ins small big sub sup tt code kbd samp var mark pre figure""".split()
)
_TABULAR = frozenset("table thead tbody tfoot ul ol dl colgroup".split())
_PRE = frozenset(("pre", "listing", "xmp", "plaintext", "textarea"))


_WEIGHT = dict.fromkeys(_CHEAP, 1) | dict.fromkeys(_TABULAR, 10)


# An element open at some point of the scan: (parent, name, start, end, cost), linked
# to its parent so that remembering the stack at a candidate cut costs nothing, with the
# cost of cutting inside it and its ancestors. A tuple: millions are made per document.
_Open = tuple
_PARENT, _NAME, _START, _END, _COST = range(5)


def compute_breaks(html: str, page_chars: int | None = None,
                   whole_chars: int | None = None) -> list[list]:
    """The `page_breaks` of a document whose sanitized HTML is `html`: [] when it is shown
    whole, else one `[offset, opening]` per page after the first. Linear in `html`."""
    if len(html) <= (whole_chars or WHOLE_CHARS):
        return []
    breaks = _Scanner(html, page_chars or PAGE_CHARS).run()
    # Byte offsets let a database read a page without decoding what comes before it.
    if html.isascii():
        for entry in breaks:
            entry.append(entry[0])
    else:
        start = size = 0
        for entry in breaks:
            size += len(html[start : entry[0]].encode("utf-8", "surrogatepass"))
            start = entry[0]
            entry.append(size)
    return breaks


class _Scanner:
    def __init__(self, html: str, page_chars: int):
        self.html = html
        self.high = page_chars
        self.low = max(1, page_chars // 2)
        self.breaks: list[list] = []
        self.start = 0  # where the current page starts
        self.best: tuple[int, _Open | None, int] | None = None  # (offset, stack, cost)

    def run(self) -> list[list]:
        html = self.html
        top: _Open | None = None
        top_cost = 0
        text_from = 0  # start of the text run before the next tag
        # The hot loop tests plain numbers per tag; they change only at a cut.
        window, limit = self.start + self.low, self.start + self.high
        for m in TAG.finditer(html):
            at, end = m.span()
            if at > limit:
                self._cross(text_from, at, top)
                window, limit = self.start + self.low, self.start + self.high
            closing, name = m.group(1, 2)
            name = name.lower()
            if closing:
                node = top
                while node is not None and node[_NAME] != name:
                    node = node[_PARENT]
                if node is not None:  # a stray end tag closes nothing
                    top = node[_PARENT]
                    top_cost = top[_COST] if top is not None else 0
                    if end >= window and (self.best is None or top_cost <= self.best[2]
                                          or end > limit):
                        self._consider(end, top)
            elif name in VOID or m.group(0).endswith("/>"):
                if end >= window:
                    self._consider(at, top)
                    self._consider(end, top)
            else:
                if at >= window and (self.best is None or top_cost <= self.best[2]
                                     or at > limit):
                    self._consider(at, top)
                top_cost += _WEIGHT.get(name, 100)
                top = (top, name, at, end, top_cost)
            if end >= window:
                window, limit = self.start + self.low, self.start + self.high
            text_from = end
        self._cross(text_from, len(html), top)
        return self.breaks

    def _commit(self, offset: int, top: _Open | None):
        self.breaks.append([offset, self._opening(top)])
        self.start = offset
        self.best = None

    def _opening(self, top: _Open | None) -> str:
        tags = []
        node = top
        while node is not None:
            tag = self.html[node[_START] : node[_END]]
            tags.append(tag if len(tag) <= MAX_REOPENED_TAG else f"<{node[_NAME]}>")
            node = node[_PARENT]
        return "".join(reversed(tags))

    def _consider(self, offset: int, top: _Open | None):
        """A possible cut between elements: the cheapest in the window wins, the latest
        of equals (fuller pages)."""
        size = offset - self.start
        if size < self.low:
            return
        if size > self.high:
            # Only after one element longer than the window: cut at once.
            if self.best is None:
                self._commit(offset, top)
            return
        cost = top[_COST] if top is not None else 0
        if self.best is None or cost <= self.best[2]:
            self.best = (offset, top, cost)

    def _cross(self, text_from: int, text_to: int, top: _Open | None):
        """Cut the pages that must end before `text_to`, the end of a text run that
        began at `text_from` inside `top`."""
        while text_to > self.start + self.high:
            if self.best is not None:
                self._commit(self.best[0], self.best[1])
                # The boundary just before this run may fit the new page's window.
                self._consider(text_from, top)
                continue
            lo = max(text_from, self.start + self.low)
            hi = self.start + self.high
            if lo >= hi:
                return  # the window ended inside a tag: the next boundary cuts
            self._commit(_text_cut(self.html, lo, hi), top)


def _text_cut(html: str, lo: int, hi: int) -> int:
    """A place in the text html[lo:hi] to cut at: after its last line end, else after its
    last space, else at `hi`; never inside a character reference."""
    newline = html.rfind("\n", lo, hi)
    if newline >= 0:
        cut = newline + 1
    else:
        space = html.rfind(" ", lo, hi)
        cut = space + 1 if space >= 0 else hi
    amp = html.rfind("&", max(lo, cut - 12), cut)
    if amp >= lo and ";" not in html[amp:cut]:
        cut = amp
    return cut


# --- Reading pages ------------------------------------------------------------------------


def is_valid(breaks) -> bool:
    """Whether `breaks` has the shape compute_breaks() gives (offsets rising); entries
    without a byte offset (stored before there were any) are valid too."""
    if not isinstance(breaks, list):
        return False
    last = last_byte = 0
    for entry in breaks:
        if (
            not isinstance(entry, list) or len(entry) not in (2, 3)
            or not _is_offset(entry[0]) or not isinstance(entry[1], str) or entry[0] <= last
        ):
            return False
        if len(entry) == 3:
            if not _is_offset(entry[2]) or entry[2] < entry[0] or entry[2] <= last_byte:
                return False
            last_byte = entry[2]
        last = entry[0]
    return True


def _is_offset(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def page_count(breaks: list) -> int:
    return len(breaks) + 1


def bounds(breaks: list, number: int) -> tuple[int, int | None]:
    """(start, end) of page `number` (1-based) in the stored HTML; end None: to the end."""
    start = breaks[number - 2][0] if number > 1 else 0
    end = breaks[number - 1][0] if number <= len(breaks) else None
    return start, end


def byte_bounds(breaks: list, number: int) -> tuple[int, int | None] | None:
    """bounds() in bytes of the UTF-8 encoding, or None when the breaks have no byte
    offsets."""
    if any(len(entry) < 3 for entry in breaks):
        return None
    start = breaks[number - 2][2] if number > 1 else 0
    end = breaks[number - 1][2] if number <= len(breaks) else None
    return start, end


def assemble(raw: str, breaks: list, number: int) -> str:
    """Page `number` made well-formed from `raw`, its slice of the stored HTML."""
    opening = breaks[number - 2][1] if number > 1 else ""
    if opening and raw.startswith("\n") and _last_name(opening) in _PRE:
        raw = "\n" + raw  # a newline right after <pre> is eaten by HTML parsers
    closing = breaks[number - 1][1] if number <= len(breaks) else ""
    return opening + raw + "".join(f"</{n}>" for n in reversed(_names(closing)))


def _names(opening: str) -> list[str]:
    return [m.group(2).lower() for m in TAG.finditer(opening)]


def _last_name(opening: str) -> str:
    names = _names(opening)
    return names[-1] if names else ""
