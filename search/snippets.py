"""Keyword-in-context snippets from a document's stored plain text.

The text is escaped first and only then are the hits wrapped in <mark>, so a snippet is
safe HTML whatever the filing held. Hits are found with `search.query.highlight_pattern`
(the same regex the document page uses), so snippets and pages agree.
"""
from __future__ import annotations

import functools
import re

from django.utils.html import escape
from django.utils.safestring import mark_safe

from search.query import NearPattern

CONTEXT = 90  # characters either side of a hit
FRAGMENTS = 3
LEAD = 240  # characters shown when there is nothing to highlight
# Look for hits in at most this much text: a hit deeper in a huge exhibit still shows
# the lead text, and a snippet never costs more than a bounded scan.
SCAN_LIMIT = 4_000_000
WINDOW = 32_000  # characters searched first
_SPACE = re.compile(r"\s+")


def snippet(text: str, pattern: re.Pattern | None, complete: bool = True) -> str:
    """Safe HTML: up to FRAGMENTS passages around hits, hits in <mark>; or the lead text.
    With complete=False `text` is only the start of the document: "" when it holds no
    hit, so the caller can look further."""
    if not text:
        return ""
    fragments = _find(text, pattern) if pattern is not None else []
    if not fragments:
        if pattern is not None and not complete:
            return ""
        end = _snap_right(text, min(len(text), LEAD))
        return mark_safe(_escape_part(text, 0, end) + ("…" if end < len(text) else ""))
    html = []
    for start, end in fragments:
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        html.append(prefix + _highlight(text, start, end, pattern) + suffix)
    return mark_safe(" ".join(html))


def _find(text: str, pattern: re.Pattern) -> list[tuple[int, int]]:
    """Passages around the first hits. Most hits come early: the first WINDOW
    characters are searched first, the whole text only if they hold too few."""
    cut = len(text)
    if len(text) > WINDOW:
        space = text.rfind(" ", 0, WINDOW)
        cut = space if space > 0 else WINDOW
    while True:
        haystack, search = _folded(text[:cut] if cut < len(text) else text, pattern)
        fragments = []
        end_of_last = -1
        for match in search.finditer(haystack, 0, SCAN_LIMIT):
            if match.start() < end_of_last:
                continue
            start = _snap_left(text, max(0, match.start() - CONTEXT))
            end = _snap_right(text, min(len(text), match.end() + CONTEXT))
            fragments.append((start, end))
            end_of_last = end
            if len(fragments) >= FRAGMENTS:
                break
        if len(fragments) >= FRAGMENTS or cut >= len(text):
            return fragments
        cut = len(text)


def _folded(text: str, pattern: re.Pattern):
    """(text to search, pattern to search it with): the lower-cased text and a
    case-sensitive pattern when lower-casing keeps every offset (it nearly always does),
    because a case-sensitive scan is several times faster."""
    if not pattern.flags & re.IGNORECASE:
        return text, pattern
    folded = text.lower()
    if len(folded) != len(text):
        return text, pattern
    return folded, _case_sensitive(pattern)


@functools.lru_cache(maxsize=256)
def _case_sensitive(pattern: re.Pattern) -> re.Pattern:
    # The query's words are lower case already (the index analyser lower-cases them).
    if isinstance(pattern, NearPattern):
        return pattern.case_sensitive()
    return re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)


MARGIN = 2  # characters either side a passage's lookarounds may need to see


def _highlight(text: str, start: int, end: int, pattern: re.Pattern) -> str:
    """The passage text[start:end], escaped, its hits in <mark>. The regex runs over the
    passage plus a margin, so a word cut at the passage's edge is never half-marked."""
    # A proximity clause's words are marked where the words they pair with stand near
    # them, which may be outside the passage: its pattern sees that much more text.
    margin = pattern.context if isinstance(pattern, NearPattern) else MARGIN
    base = max(0, start - margin)
    haystack, search = _folded(text[base : end + margin], pattern)
    out, pos = [], start
    for match in search.finditer(haystack, start - base):
        m_start, m_end = match.start() + base, match.end() + base
        if m_end > end:
            break
        out.append(_escape_part(text, pos, m_start))
        out.append("<mark>" + _escape_part(text, m_start, m_end) + "</mark>")
        pos = m_end
    out.append(_escape_part(text, pos, end))
    return "".join(out)


def _escape_part(text: str, start: int, end: int) -> str:
    # Lines and tabs of the plain text read as spaces in a snippet.
    return escape(_SPACE.sub(" ", text[start:end]))


def _snap_left(text: str, pos: int) -> int:
    if pos == 0:
        return 0
    space = text.find(" ", pos, pos + 20)
    return space + 1 if space != -1 else pos


def _snap_right(text: str, pos: int) -> int:
    if pos >= len(text):
        return len(text)
    space = text.rfind(" ", pos - 20, pos)
    return space if space != -1 else pos
