"""Marking search hits in a document's stored, sanitized HTML (`?q=` on a document page),
and counting them in the pages that are not shown.

Hits are wrapped in `<mark class="hit" id="es-hit-N">` in text nodes only, so tags and
attributes are never touched. The query is untrusted: it only ever becomes a regular
expression (from the search app, or escaped words here) and never reaches the markup.
A long document is marked a page at a time (`filings.pages`); `count()` tells the other
pages' hits, as `highlight()` would mark them, without parsing.
"""
from __future__ import annotations

import functools
import re

from lxml import etree

# Past this many hits the rest are left unmarked: a bar saying "hit 3 of 5,000" helps
# nobody, and marking is the only page work that grows with the document.
MAX_HITS = 2000
HIT_ID = "es-hit-{}"
_PARSER = etree.HTMLParser(remove_comments=False, no_network=True)
_WORD = re.compile(r"[\w][\w.'&-]*\w|\w", re.UNICODE)
# Words of the query language that are not text to find.
_OPERATORS = {"AND", "OR", "NOT", "TO"}


def pattern_for(q: str) -> re.Pattern | None:
    """The search app's pattern for `q` when it provides one, else a plain word match."""
    q = (q or "").strip()
    if not q:
        return None
    try:
        from search.query import highlight_pattern
    except ImportError:
        return fallback_pattern(q)
    try:
        return highlight_pattern(q)
    except Exception:  # noqa: BLE001 - a query the search app rejects still shows the page
        return fallback_pattern(q)


def fallback_pattern(q: str) -> re.Pattern | None:
    """Whole-word, case-insensitive matches of the query's words (field prefixes,
    operators and quotes dropped); a phrase in quotes matches as a phrase."""
    alternatives = []
    for phrase in re.findall(r'"([^"]+)"', q):
        words = _WORD.findall(phrase)
        if words:
            alternatives.append(r"\s+".join(re.escape(w) for w in words))
    rest = re.sub(r'"[^"]*"', " ", q)
    for token in rest.split():
        if token in _OPERATORS or token.startswith("-"):
            continue
        if ":" in token:  # a field filter such as form:8-K finds filings, not text
            continue
        alternatives.extend(re.escape(word) for word in _WORD.findall(token))
    if not alternatives:
        return None
    alternatives.sort(key=len, reverse=True)  # longest first: "net income" before "net"
    return re.compile(r"(?<!\w)(?:" + "|".join(dict.fromkeys(alternatives)) + r")(?!\w)", re.I)


def highlight(html: str, pattern: re.Pattern | None, first: int = 1) -> tuple[str, int]:
    """`html` with each match of `pattern` in its text wrapped in a mark numbered from
    `first` on (a later page of a document continues the earlier pages' numbers), and
    the number of marks made."""
    if not html or pattern is None:
        return html, 0
    folded = _case_folded(pattern) if html.isascii() else None
    # A proximity pattern's plain words first (its pairs are decided per text below).
    probe = getattr(folded or pattern, "base", folded or pattern)
    if not probe.search(html.lower() if folded else html):
        return html, 0  # cheap: no hit anywhere, not even in markup
    # A plain etree parser: lxml.html's element classes cost a Python call per element.
    try:
        document = etree.fromstring(f"<div>{html}</div>", _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return html, 0
    root = document.find("body/div") if document is not None else None
    if root is None:
        return html, 0
    count = 0
    # A plain pass over the elements (listed first, so inserted marks are not visited),
    # touching only the texts that match; the marks are numbered afterwards in document
    # order (an element's tail comes after its children, which this pass does not follow).
    for el in list(root.iter()):
        if count >= MAX_HITS:
            break
        if isinstance(el.tag, str) and el.text and pattern.search(el.text):
            count = _mark_text(el, pattern, count)
        if el is not root and el.tail and count < MAX_HITS and pattern.search(el.tail):
            count = _mark_tail(el, pattern, count)
    if count == 0:
        return html, 0
    number = first - 1
    for mark in root.iter("mark"):
        if mark.get("class") == "hit":  # filing markup has no classes: these are ours
            number += 1
            mark.set("id", HIT_ID.format(number))
    parts = [root.text and _escape(root.text) or ""]
    parts.extend(etree.tostring(child, method="html", encoding="unicode") for child in root)
    return "".join(parts), count


def count(html: str, pattern: re.Pattern | None) -> int:
    """How many marks highlight() makes in `html`, found by scanning the markup with
    `pattern` and skipping the matches inside tags: no parsing, and Python work only per
    match. Linear in `html`; what a page of a long document costs to count unshown."""
    if not html or pattern is None:
        return 0
    folded = _case_folded(pattern) if html.isascii() else None
    if folded is not None:
        # A case-insensitive scan is forty times slower than lower-casing ASCII text and
        # scanning it case-sensitively (the query's words are lower case already); other
        # text lower-cases slowly, and is scanned as it is.
        html, pattern = html.lower(), folded
    if not getattr(pattern, "base", pattern).search(html):  # highlight() marks nothing
        return 0
    # Serialized sanitized HTML holds `<` and `>` only in tags (escaped elsewhere, in
    # attribute values too) and, escaped, only these references. Decoded to characters a
    # word never holds, a match can no longer cross a tag (a tag name is a word
    # character away from `<`) and text reads as highlight() reads it.
    text = _REFERENCE.sub(_decoded, html) if "&" in html else html
    if hasattr(pattern, "near"):
        # A proximity pattern pairs words within one text, as highlight() meets them,
        # and decides a text's words in one pass: each text is read once.
        return _count_near(text, pattern)
    found = in_tags = 0
    position = known = 0  # whether text[known] is inside a tag: in_tag
    in_tag = False
    while found < MAX_HITS:
        m = pattern.search(text, position)
        if m is None:
            break
        start = m.start()
        # Each stretch of text is looked at once: linear however many matches.
        opened, closed = text.rfind("<", known, start), text.rfind(">", known, start)
        if opened != closed:  # both -1: no tag edge since the last look
            in_tag = opened > closed
        known = start
        if in_tag:
            in_tags += 1
            if in_tags > MAX_HITS:  # the query names markup (td, style...): strip it once
                return _count_in_text_nodes(text, pattern)
            end = text.find(">", start)
            position = known = end + 1 if end >= 0 else len(text)
            in_tag = False
            continue
        if m.end() == start or "<" in m.group(0):  # `\W+` ran into a tag: no hit here
            position = start + 1
            continue
        found += 1
        position = known = m.end()
    return found


_REFERENCES = {"&lt;": "\x01", "&gt;": "\x01", "&quot;": '"', "&#x27;": "'", "&#39;": "'",
               "&amp;": "&"}
_REFERENCE = re.compile("|".join(_REFERENCES))


def _decoded(m: re.Match) -> str:
    return _REFERENCES[m.group(0)]


# Stands for a tag between two text nodes in the scan of a plain regex: not a word
# character, so a word at either side still ends there; a match holding it crosses nodes,
# which highlight() never marks. (A proximity pattern is given each text alone instead,
# so search.query's NODE_BREAK never has to agree with it.)
_NODE_BREAK = "\x00"
_ANY_TAG = re.compile(r"<[^<>]*>")


def _count_in_text_nodes(text: str, pattern: re.Pattern) -> int:
    """count() for a pattern that matches markup: the tags replaced first."""
    text = _ANY_TAG.sub(_NODE_BREAK, text)
    found, position = 0, 0
    while found < MAX_HITS:
        m = pattern.search(text, position)
        if m is None:
            break
        across = m.group(0).find(_NODE_BREAK)
        if across >= 0:
            position = m.start() + across + 1  # try again from the next node
        elif m.end() == m.start():
            position = m.end() + 1
        else:
            found += 1
            position = m.end()
    return found


def _count_near(text: str, pattern) -> int:
    """count() for a proximity pattern (search.query.NearPattern): each text between
    tags searched alone, as highlight() searches it."""
    found = 0
    for node in _ANY_TAG.split(text):
        for m in pattern.finditer(node):
            if m.end() > m.start():
                found += 1
                if found >= MAX_HITS:
                    return found
    return found


@functools.lru_cache(maxsize=64)
def _case_folded(pattern: re.Pattern) -> re.Pattern | None:
    """`pattern` without IGNORECASE, to be run on lower-cased text, when that finds the
    same matches: it is case-insensitive and holds no upper-case letter (no literal, and
    no `\\W`, `\\S` or `\\D` class that lower-casing the pattern would change)."""
    if not pattern.flags & re.IGNORECASE or pattern.pattern != pattern.pattern.lower():
        return None
    if hasattr(pattern, "case_sensitive"):  # search.query.NearPattern
        return pattern.case_sensitive()
    return re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _split(text: str, pattern: re.Pattern, count: int) -> list[str]:
    """Text pieces alternating plain, hit, plain, hit, ... (odd indexes are hits)."""
    pieces, last = [], 0
    for m in pattern.finditer(text):
        if not m.group(0) or count + len(pieces) // 2 >= MAX_HITS:
            if not m.group(0):
                continue
            break
        pieces.append(text[last : m.start()])
        pieces.append(m.group(0))
        last = m.end()
    if not pieces:
        return []
    pieces.append(text[last:])
    return pieces


def _mark(text: str, count: int) -> etree._Element:
    mark = etree.Element("mark")
    mark.set("class", "hit")
    mark.set("id", HIT_ID.format(count))
    mark.text = text
    return mark


def _mark_text(el, pattern, count) -> int:
    pieces = _split(el.text, pattern, count)
    if not pieces:
        return count
    el.text = pieces[0]
    marks = []
    for i in range(1, len(pieces), 2):
        count += 1
        mark = _mark(pieces[i], count)
        mark.tail = pieces[i + 1]
        marks.append(mark)
    for offset, mark in enumerate(marks):
        el.insert(offset, mark)
    return count


def _mark_tail(el, pattern, count) -> int:
    pieces = _split(el.tail, pattern, count)
    if not pieces:
        return count
    el.tail = pieces[0]
    parent = el.getparent()
    index = parent.index(el)
    for i in range(1, len(pieces), 2):
        count += 1
        mark = _mark(pieces[i], count)
        mark.tail = pieces[i + 1]
        index += 1
        parent.insert(index, mark)
    return count
