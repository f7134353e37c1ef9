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

from search.query import NearPattern, words_between

CONTEXT = 90  # characters either side of a hit
FRAGMENTS = 3
LEAD = 240  # characters shown when there is nothing to highlight
# Look for hits in at most this much text: a hit deeper in a huge exhibit still shows
# the lead text, and a snippet never costs more than a bounded scan.
SCAN_LIMIT = 4_000_000
# Text searched for hits: the start of the text first, then more only if the hits found
# could differ from the whole text's (`_settled`). The first hits nearly always lie
# early, and a proximity clause's words are decided by reading all the text searched:
# reading 32,000 characters for each result cost a proximity page 20 ms.
WINDOWS = (4_000, 32_000)
_SPACE = re.compile(r"\s+")


def snippet(text: str, pattern: re.Pattern | None, complete: bool = True) -> str:
    """Safe HTML: up to FRAGMENTS passages around hits, hits in <mark>; or the lead text.
    With complete=False `text` is only the start of the document: "" when it holds no
    hit, so the caller can look further."""
    if not text:
        return ""
    fragments, hits = _find(text, pattern) if pattern is not None else ([], [])
    if not fragments:
        if pattern is not None and not complete:
            return ""
        end = _snap_right(text, min(len(text), LEAD))
        return mark_safe(_escape_part(text, 0, end) + ("…" if end < len(text) else ""))
    return _html(text, fragments, hits)


def head_snippet(head: str, pattern: re.Pattern | None) -> str | None:
    """The snippet of a text that starts with `head` and may go on: what `snippet` gives
    for the whole text, or None when the text after `head` could change it (fewer than
    FRAGMENTS passages, or passages not `_settled` before the head's last space). Lets a
    caller read the start of each text first and the rest of only a few."""
    if pattern is None:  # the lead text, and a "…" since more follows
        return snippet(head, None) if len(head) > LEAD else None
    if isinstance(pattern, NearPattern) and not pattern.local:
        return None  # whether its words are marked depends on the whole text
    cut = head.rfind(" ")  # never the head's end: what follows it could extend a passage
    found = _settled_scan(head, cut, pattern) if cut > 0 else None
    return None if found is None else _html(head, *found)


def _html(text: str, fragments, hits) -> str:
    html = []
    for start, end in fragments:
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        html.append(prefix + _highlight(text, start, end, hits) + suffix)
    return mark_safe(" ".join(html))


def _find(text: str, pattern: re.Pattern) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Passages around the first hits, and the hits they hold. The start of the text is
    searched first (WINDOWS), the whole text only if it holds too few hits, or hits whose
    marks could depend on the text after it. The hits are those of one scan, so a
    proximity clause's words are decided once, with the text around them."""
    near = isinstance(pattern, NearPattern)
    # With a clause of three or more words, whether a word qualifies depends on the
    # whole text (does it hold a span?): such a pattern starts at the largest window.
    windows = WINDOWS if not near or pattern.local else WINDOWS[-1:]
    for size in windows:
        if len(text) <= size:
            break
        space = text.rfind(" ", 0, size)
        found = _settled_scan(text, space if space > 0 else size, pattern)
        if found is not None:
            return found
    return _scan(text, len(text), pattern)


def _settled_scan(text: str, cut: int, pattern):
    """The passages and hits of text[:cut] when they are the whole text's (FRAGMENTS of
    them, `_settled`), else None."""
    fragments, hits = _scan(text, cut, pattern)
    if len(fragments) >= FRAGMENTS and _settled(text, fragments[-1][1], cut, pattern):
        return fragments, hits
    return None


def _settled(text: str, end: int, cut: int, pattern) -> bool:
    """Whether the text after `cut` cannot change the hits before `end`: a match must
    end before the cut, and a proximity clause's word is decided by the words within
    its reach, which must all lie before the cut."""
    if end > cut:
        return False
    reach = pattern.reach if isinstance(pattern, NearPattern) else 0
    return not reach or words_between(text, end, cut, reach + 1) > reach


def _scan(text: str, cut: int, pattern: re.Pattern):
    haystack, search = _folded(text[:cut] if cut < len(text) else text, pattern)
    fragments, hits = [], []
    end_of_last = -1
    for match in search.finditer(haystack, 0, SCAN_LIMIT):
        if match.start() < end_of_last:
            if match.end() <= end_of_last:
                hits.append(match.span())
            continue
        if len(fragments) >= FRAGMENTS or match.start() == match.end():
            if len(fragments) >= FRAGMENTS:
                break
            continue
        start = _snap_left(text, max(0, match.start() - CONTEXT))
        end = _snap_right(text, min(len(text), match.end() + CONTEXT))
        if match.end() <= end:
            hits.append(match.span())
        fragments.append((start, end))
        end_of_last = end
    return fragments, hits


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


def _highlight(text: str, start: int, end: int, hits: list[tuple[int, int]]) -> str:
    """The passage text[start:end], escaped, the hits inside it in <mark>."""
    out, pos = [], start
    for m_start, m_end in hits:
        if m_start < pos or m_end > end:
            continue
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
