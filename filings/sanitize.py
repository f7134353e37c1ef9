"""Sanitized HTML of a filing document, made once at ingest and shown as-is.

Filings are hostile input. Two passes:

1. lxml: parse robustly (HTML, XHTML, inline XBRL), drop every element that can run code,
   load something, or is never visible (script, style, iframe, object, svg, math, forms'
   controls, head, `ix:header`, `display:none` elements...); unwrap forms, inline-XBRL
   `ix:*` and other namespaced tags keeping their text; drop attributes outside the
   allowlist; resolve images of the same filing through the caller's `resolve_image`
   and drop every other image; mark external links `rel="nofollow noopener noreferrer"`.
2. bleach on the serialized result: the allowlists below, enforced again by a second,
   HTML5-conformant parser, so what reaches the browser is what was checked. bleach
   cleans each distinct table row, cell and paragraph template once and the words apart
   (see "bleach, doing each distinct piece of work once" below): the output is exactly
   that of one bleach pass over the document, at a fraction of the cost.

Pure Python + lxml + bleach (no Django): runs in ingest worker processes.

Decisions others rely on:
- Output is a fragment (the body's content; wrapped in a `<div style>` when the body has
  a style of its own), to be put inside a container element.
  Put it in a box that clips (`overflow: auto` or `contain: paint`): no `position` can
  survive, but margins may be negative as filings use them for hanging indents.
- `id` and `name` are kept verbatim so in-page links (`href="#item7"`) work; page chrome
  should not use ids a filing could plausibly use (prefix the app's own ids).
- `class` is dropped (filings' stylesheets are dropped, and their class names must not
  pick up the app's CSS).
- Links keep http, https, mailto, relative and fragment targets; images only through
  `resolve_image`.
"""

from __future__ import annotations

import copy
import html as _html
import re
from collections.abc import Callable
from functools import lru_cache

import bleach
import tinycss2
from bleach.css_sanitizer import CSSSanitizer
from lxml import etree
from lxml import html as lxml_html

from filings.text import (
    clean_input,
    drop_tag,
    html_text,
    is_invisible,
    parse_html,
    remove_invisible,
    strip_tags,
)

__all__ = ["SANITIZER_VERSION", "sanitize_html", "sanitize_tree", "text_and_html", "text_to_html"]

SANITIZER_VERSION = "1"

ALLOWED_TAGS = frozenset(
    """p div span br hr wbr b strong i em u s strike del ins sub sup small big font
    center nobr table thead tbody tfoot tr td th caption col colgroup ul ol li dl dt dd
    h1 h2 h3 h4 h5 h6 a img pre blockquote q cite code tt kbd samp var abbr acronym dfn
    address mark section article header footer aside figure figcaption""".split()
)

_COMMON_ATTRIBUTES = (
    "align valign width height border bgcolor color face size style id title".split()
)
ALLOWED_ATTRIBUTES: dict[str, list[str]] = {
    "*": _COMMON_ATTRIBUTES,
    "a": [*_COMMON_ATTRIBUTES, "href", "name", "rel"],
    "img": [*_COMMON_ATTRIBUTES, "src", "alt", "hspace", "vspace"],
    "table": [*_COMMON_ATTRIBUTES, "cellpadding", "cellspacing", "frame", "rules", "summary"],
    "td": [*_COMMON_ATTRIBUTES, "colspan", "rowspan", "nowrap", "abbr", "scope"],
    "th": [*_COMMON_ATTRIBUTES, "colspan", "rowspan", "nowrap", "abbr", "scope"],
    "col": [*_COMMON_ATTRIBUTES, "span"],
    "colgroup": [*_COMMON_ATTRIBUTES, "span"],
    "ol": [*_COMMON_ATTRIBUTES, "start", "type"],
    "ul": [*_COMMON_ATTRIBUTES, "type"],
    "li": [*_COMMON_ATTRIBUTES, "type", "value"],
    "hr": [*_COMMON_ATTRIBUTES, "noshade"],
    "br": [*_COMMON_ATTRIBUTES, "clear"],
    "font": [*_COMMON_ATTRIBUTES],
}
ALLOWED_PROTOCOLS = frozenset(("http", "https", "mailto"))

# What EDGAR's tables and typography need. Nothing here can load a URL (background,
# list-style, content, cursor, behavior, -moz-binding, filter, border-image are out), and
# nothing can lift content out of the flow over the page (position, top/left/right/
# bottom, z-index, transform, translate are out).
ALLOWED_CSS_PROPERTIES = frozenset(
    """font font-family font-size font-style font-variant font-weight font-stretch
    font-variant-numeric font-kerning
    text-align text-align-last text-indent text-decoration text-decoration-line
    text-decoration-style text-decoration-color text-underline-offset text-transform
    vertical-align line-height letter-spacing word-spacing white-space word-wrap
    overflow-wrap word-break hyphens
    margin margin-top margin-right margin-bottom margin-left
    padding padding-top padding-right padding-bottom padding-left
    border border-top border-right border-bottom border-left
    border-width border-style border-color border-collapse border-spacing border-radius
    border-top-width border-right-width border-bottom-width border-left-width
    border-top-style border-right-style border-bottom-style border-left-style
    border-top-color border-right-color border-bottom-color border-left-color
    width min-width max-width height min-height max-height box-sizing
    color background-color
    display float clear overflow overflow-x overflow-y
    table-layout caption-side empty-cells list-style-type list-style-position
    page-break-before page-break-after page-break-inside
    break-before break-after break-inside""".split()
)
# Functions allowed in a CSS value; a declaration using any other (url, expression,
# image-set, var, attr, env...) is dropped whole.
_CSS_FUNCTIONS = frozenset(("rgb", "rgba", "hsl", "hsla"))

_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)
_URL_NOISE = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+")


class _FilingCSSSanitizer(CSSSanitizer):
    """bleach's CSS sanitizer checks property names only; this one also drops any
    declaration whose value holds a URL or a function other than a colour, and caches
    results (EDGAR documents repeat a few hundred distinct styles thousands of times)."""

    def __init__(self):
        super().__init__(
            allowed_css_properties=ALLOWED_CSS_PROPERTIES, allowed_svg_properties=frozenset()
        )
        self.sanitize_css = lru_cache(maxsize=8192)(self._sanitize_css)

    def _sanitize_css(self, style: str) -> str:
        kept = []
        for decl in tinycss2.parse_declaration_list(
            style, skip_comments=True, skip_whitespace=True
        ):
            if decl.type != "declaration" or decl.lower_name not in ALLOWED_CSS_PROPERTIES:
                continue
            if not _css_value_is_safe(decl.value):
                continue
            value = tinycss2.serialize(decl.value).strip()
            if not value or "\\" in value:
                continue
            kept.append(f"{decl.lower_name}:{value}{' !important' if decl.important else ''}")
        return ";".join(kept)


def _css_value_is_safe(tokens) -> bool:
    for token in tokens:
        if token.type == "url":
            return False
        if token.type == "function":
            if token.lower_name not in _CSS_FUNCTIONS or not _css_value_is_safe(token.arguments):
                return False
        elif token.type in ("() block", "[] block", "{} block"):
            return False
        elif token.type == "ident" and token.lower_value in ("expression", "url"):
            return False
    return True


class _LinearTreeWalker(bleach.html5lib_shim.getTreeWalker("etree")):
    """html5lib's etree walker, but linear: on leaving an element it found the element's
    place among its siblings by scanning them (`list(parent).index(el)`), so an element
    with many children cost time quadratic in their number (a fuzzed filing: 215 s).
    Here each ancestor on the stack keeps its place; the walk is the same.

    A node is (element, its place, [(ancestor, its place)...], "text"/"tail"/None)."""

    def getFirstChild(self, node):
        if isinstance(node, tuple):
            element, key, parents, flag = node
        else:
            element, key, parents, flag = node, None, [], None
        if flag in ("text", "tail"):
            return None
        if element.text:
            return element, key, parents, "text"
        if len(element):
            parents.append((element, key))
            return element[0], 0, parents, None
        return None

    def getNextSibling(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            if len(element):
                parents.append((element, key))
                return element[0], 0, parents, None
            return None
        if element.tail and flag != "tail":
            return element, key, parents, "tail"
        parent = parents[-1][0]
        if key < len(parent) - 1:
            return parent[key + 1], key + 1, parents, None
        return None

    def getParentNode(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return (element, key, parents, None) if parents else element
        parent, parent_key = parents.pop()
        return (parent, parent_key, parents, None) if parents else parent


_CSS_SANITIZER = _FilingCSSSanitizer()
_CLEANER = bleach.sanitizer.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    css_sanitizer=_CSS_SANITIZER,
)
_CLEANER.walker = _LinearTreeWalker

# Elements unwrapped in the lxml pass (the element goes, its content stays). Inline-XBRL
# `ix:*` and every other namespaced tag (MS Word's `o:p`...) are unwrapped too.
_UNWRAP_TAGS = frozenset(("form", "fieldset", "label", "legend", "body", "html", "head"))
# Old plain-text containers that HTML parsers treat as raw text: shown as <pre>.
_PRE_TAGS = frozenset(("xmp", "listing", "plaintext"))
_EXTERNAL_REL = "nofollow noopener noreferrer"


def text_to_html(text: str) -> str:
    """A plain-text document shown preformatted: `<pre class="filing-text">...</pre>`."""
    try:
        text = clean_input(text).replace("\r\n", "\n").replace("\r", "\n")
    except Exception:  # noqa: BLE001
        text = ""
    # A leading newline right after <pre> is eaten by HTML parsers: keep the first line.
    if text.startswith("\n"):
        text = "\n" + text
    return f'<pre class="filing-text">{_html.escape(text, quote=False)}</pre>'


def _url_scheme(url: str) -> str | None:
    """The scheme of `url` as a browser would see it ("" when relative), or None when it
    cannot be told safely."""
    normalized = _URL_NOISE.sub("", _html.unescape(url)).replace("\\", "/")
    if normalized.startswith("//"):  # browsers read `\\host` and `/\\host` as `//host`
        return "//"
    m = _SCHEME.match(normalized)
    if m:
        return m.group(1).lower()
    if ":" in normalized.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return None
    return ""


def _fix_link(el) -> None:
    href = el.get("href")
    el.attrib.pop("rel", None)
    if href is None:
        return
    scheme = _url_scheme(href)
    if scheme is None or (scheme and scheme not in ALLOWED_PROTOCOLS and scheme != "//"):
        del el.attrib["href"]
    elif scheme in ("http", "https", "//"):
        el.set("rel", _EXTERNAL_REL)


def _fix_image(el, resolve_image: Callable[[str], str | None]) -> bool:
    """Point an image at the filing's own file; False when it must go."""
    src = (el.get("src") or "").strip()
    if not src or _url_scheme(src) != "":
        return False
    try:
        url = resolve_image(src)
    except Exception:  # noqa: BLE001 - a broken resolver must not break ingest
        url = None
    if not url or not isinstance(url, str):
        return False
    el.set("src", url)
    return True


def _prune(root, resolve_image: Callable[[str], str | None], invisible_removed=False) -> None:
    """The lxml pass: structural removal, unwrapping, attribute and URL filtering."""
    if not invisible_removed:
        remove_invisible(root)
    unwrap = []
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if el is root:
            style = _CSS_SANITIZER.sanitize_css(el.get("style") or "")
            el.attrib.clear()
            if style:
                el.set("style", style)
            continue
        if ":" in tag or tag in _UNWRAP_TAGS:
            unwrap.append(el)
            continue
        if tag in _PRE_TAGS:
            el.tag = tag = "pre"
        attrib = el.attrib
        if attrib:
            allowed = ALLOWED_ATTRIBUTES.get(tag, _COMMON_ATTRIBUTES)
            if any(name not in allowed for name in attrib.keys()):
                # Rebuilt rather than deleted one by one: lxml refuses to delete some
                # names a hostile document can carry (`{x}`).
                kept = [(name, value) for name, value in attrib.items() if name in allowed]
                attrib.clear()
                for name, value in kept:
                    attrib[name] = value
            style = attrib.get("style")
            if style is not None:
                # Sanitized here too (cached), so bleach tokenizes less and finds it clean.
                style = _CSS_SANITIZER.sanitize_css(style)
                if style:
                    attrib["style"] = style
                else:
                    del attrib["style"]
        if not attrib and tag in ("span", "font"):
            unwrap.append(el)  # no attribute left: the element does nothing
            continue
        if tag == "a":
            _fix_link(el)
        elif tag == "img" and not _fix_image(el, resolve_image):
            unwrap.append(el)  # an img has no content: unwrapping drops it, keeps tail
    for el in unwrap:
        if el.getparent() is not None:
            drop_tag(el)


def _serialize_children(el) -> str:
    parts = [_html.escape(el.text, quote=False)] if el.text else []
    for child in el:
        parts.append(lxml_html.tostring(child, encoding="unicode", method="html"))
    return "".join(parts)


def sanitize_html(html: str, resolve_image: Callable[[str], str | None] = lambda src: None) -> str:
    """Safe HTML fragment showing `html` (a filing's HTML or inline-XBRL document).

    `resolve_image(src)` gives the URL of an image file of the same filing named by an
    `<img src>`, or None; every image it does not resolve is dropped. Never raises: input
    that cannot be parsed at all is shown as its text, preformatted.
    """
    try:
        root = parse_html(html)
    except Exception:  # noqa: BLE001 - never raise at ingest
        return _fallback(html)
    return sanitize_tree(root, html, resolve_image)


def text_and_html(
    html: str, resolve_image: Callable[[str], str | None] = lambda src: None
) -> tuple[str, str]:
    """`(extract_text("html", html), sanitize_html(html, resolve_image))` from one parse."""
    try:
        root = parse_html(html) if html else None
        # Both drop the invisible elements: once for both, unless the document or its
        # body is invisible as a whole (the two then part ways).
        shared = root is not None and not is_invisible(root)
        if shared:
            body = root.find("body")
            shared = body is None or not is_invisible(body)
        if shared:
            remove_invisible(root)
    except Exception:  # noqa: BLE001
        return "", _fallback(html)
    try:
        # html_text reads the tree as it is; only when it must remove the invisible
        # elements itself (which the sanitizer does its own way here) does it get a copy.
        text = html_text(root if shared else copy.deepcopy(root), html, shared) if html else ""
    except Exception:  # noqa: BLE001 - as extract_text: no text rather than no document
        text = ""
    return text, sanitize_tree(root, html, resolve_image, shared)


def sanitize_tree(
    root, html: str, resolve_image: Callable[[str], str | None], invisible_removed=False
) -> str:
    """`sanitize_html` of `html` already parsed by `parse_html` (`root`, which this
    consumes; None when it did not parse); `invisible_removed`: the caller has run
    `remove_invisible(root)`."""
    try:
        if root is None:
            return "" if not (html or "").strip() else _fallback(html)
        body = root.find("body")
        if body is None:
            if root.tag != "html":
                body = root
            else:
                return _fallback(html)
        _prune(body, resolve_image, invisible_removed)
        whole = bool(body.get("style"))
        if whole:
            # The body's typography (font family and size, mostly) applies to all of it.
            body.tag = "div"
            body.tail = None
        return _clean(body, whole, html).strip()
    except Exception:  # noqa: BLE001 - never raise at ingest
        return _fallback(html)


# --- bleach, doing each distinct piece of work once ------------------------------------
#
# bleach's cost is per token: html5lib tokenizes, builds a tree, walks, filters and
# serializes it in Python. EDGAR repeats itself: thousands of table cells and paragraphs
# that differ only in their words (`<td style=..><font style=..>$</font></td>`). So the
# document is cut into units (table cells, the rows that hold them, and blocks of text);
# the words come out of each unit, leaving a template; bleach cleans each distinct
# template once (and keeps the result for the next documents of this process), all the
# words at once as one run of text, and the document with a placeholder in the place of
# each unit; the pieces of its output are then put together again.
#
# That is exactly what one bleach pass over the document gives, because html5lib parses
# each unit on its own, given the conditions `_find_units` checks:
# - A cell starts a new scope for every "in scope" test and a marker for the formatting
#   elements, and its end closes all it opened. A row of such cells (with only whitespace
#   between them) is parsed alike in any table. This holds while every table part of the
#   document sits where HTML's table model puts it (`_TABLES_MISPLACED`), so html5lib
#   never moves anything across cells or out of a table.
# - A block holding only phrasing elements (a p of b, font, a, br...) in a region where
#   html5lib rebuilds nothing (no block in a p, no link in a link...) opens and closes
#   what it holds and meets no stale formatting element to reopen.
# - bleach treats text one character at a time (it escapes &, <, >; entities in lxml's
#   output are whole), so words cleaned side by side come out as they would in place.
#   Whitespace-only text stays in the templates (html5lib's table rules read it), and so
#   does text with control characters (bleach treats those by their position).
# Placeholders use private-use characters, which `clean_input` removes from the input; a
# document that spells one with a character reference takes the plain path. Whatever
# looks wrong (a probe's output not of the expected shape) takes the plain path too.

_UNIT_MARK = "\ue000"  # a unit in the document: <tr id=..></tr> or <hr id=..>
_TEXT_MARK = "\ue001"  # a text in a template
_CELL_MARK = "\ue002"  # a cell in a row template: <td id=..></td>
_SEP_MARK = "\ue003"  # between probes cleaned together
_UNIT_PLACEHOLDER = re.compile(
    '<tr id="\ue000([0-9]+)\ue000"></tr>|<hr id="\ue000([0-9]+)\ue000">'
)
_TEXT_PLACEHOLDER = re.compile("\ue001([0-9]+)\ue001")
_CELL_PLACEHOLDER = re.compile('<(td|th) id="\ue002([0-9]+)\ue002"></\\1>')
# The placeholder characters, as the input may spell them (a pattern that starts with a
# fixed "&#" is searched for fast).
_MARKS = "\ue000\ue001\ue002\ue003"
_SPELLED_MARK = re.compile("&#(?:[xX]0*[eE]00[0-3]|0*5734[4-7])(?![0-9])")
# How templates of each kind are cleaned together: around them, between them.
_PROBES = {
    "block": ("", "", f'<br id="{_SEP_MARK}">'),
    "tr": ("<table><tbody>", "</tbody></table>", f'<tr id="{_SEP_MARK}"></tr>'),
    "td": ("<table><tbody><tr>", "</tr></tbody></table>", f'<td id="{_SEP_MARK}"></td>'),
}
_TABLE_PARTS = ("table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "td", "th")
_SECTIONS = "parent::thead or parent::tbody or parent::tfoot"
_TABLES_MISPLACED = etree.XPath(
    "boolean("
    "descendant::td[not(parent::tr)] | descendant::th[not(parent::tr)]"
    f" | descendant::tr[not(parent::table or {_SECTIONS})]"
    " | descendant::*[self::thead or self::tbody or self::tfoot or self::colgroup]"
    "[not(parent::table)]"
    " | descendant::col[not(parent::colgroup or parent::table) or node()]"
    " | descendant::caption"
    f" | descendant::table[{_SECTIONS} or parent::table or parent::tr or parent::colgroup]"
    " | descendant::table/*[not(self::thead or self::tbody or self::tfoot or self::tr"
    " or self::colgroup or self::col)]"
    " | descendant::*[self::thead or self::tbody or self::tfoot]/*[not(self::tr)]"
    " | descendant::tr/*[not(self::td or self::th)]"
    " | descendant::colgroup/*[not(self::col)])"
)
_PHRASING = frozenset(
    """b strong i em u s strike del ins sub sup small big font span a code tt kbd samp var
    abbr acronym dfn cite q mark""".split()
)
_VOID_PHRASING = frozenset(("br", "img", "wbr"))
_P_LIKE = frozenset(("p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"))
_BLOCKS = frozenset(
    "div center blockquote section article header footer aside figure figcaption address".split()
)
_BLANK = re.compile("[ \t\n]*")
_HTML_SPACE = "\t\n\x0c\r "
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class _Memo:
    """bleach's output for each distinct template, kept in this process (placeholders
    hold its numbers) and emptied when it grows large."""

    MAX_ITEMS = 100_000
    MAX_CHARS = 32_000_000

    def __init__(self):
        self.clear()

    def clear(self):
        self.ids: dict[tuple[str, str], int] = {}  # (kind, template) -> number
        self.html: list[str] = []
        self.chars = 0

    def trim(self):
        if len(self.ids) > self.MAX_ITEMS or self.chars > self.MAX_CHARS:
            self.clear()

    def learn(self, kind: str, templates: list[str]) -> None:
        """Clean new templates of one kind together (rows in one table, cells in one row,
        blocks one after the other)."""
        if not templates:
            return
        before, after, separator = _PROBES[kind]
        out = _CLEANER.clean(before + separator.join(templates) + after)
        if not (out.startswith(before) and out.endswith(after)):
            raise _NoShortcut(kind)
        parts = out[len(before) : len(out) - len(after)].split(separator)
        if len(parts) != len(templates):
            raise _NoShortcut(kind)
        for template, html in zip(templates, parts, strict=True):
            if kind == "tr" and _cells_in(html) != _cells_in(template):
                raise _NoShortcut(kind)
            self.ids[kind, template] = len(self.html)
            self.html.append(html)
            self.chars += len(template) + len(html)


class _NoShortcut(Exception):
    """Something did not come out as expected: clean the plain way."""


_MEMO = _Memo()


def _clean(body, whole: bool, html: str) -> str:
    """bleach's output for `body`'s content (`whole`: for body itself), parsed from
    `html`."""
    marks = any(mark in html for mark in _MARKS) or _SPELLED_MARK.search(html)
    if not marks and not _TABLES_MISPLACED(body):
        # The shortcut takes the tree apart; the plain way needs it as it was, kept as
        # its serialization (a tenth of the memory of a copy of the tree).
        plain = _serialize(body, whole)
        try:
            return _clean_by_units(body, whole)
        except _NoShortcut:
            return _CLEANER.clean(plain)
    return _CLEANER.clean(_serialize(body, whole))


def _serialize(body, whole: bool) -> str:
    if whole:
        return lxml_html.tostring(body, encoding="unicode", method="html")
    return _serialize_children(body)


def _clean_by_units(body, whole: bool) -> str:
    memo = _MEMO
    memo.trim()
    texts: list[str] = []
    rows = []  # (tr, [(cell template, first text)...])
    blocks = []  # (block, template, first text)
    new: dict[str, dict[str, None]] = {"td": {}, "block": {}, "tr": {}}
    for unit, kind in _find_units(body):
        if kind == "tr":
            cells = []
            for cell in unit:
                first = len(texts)
                template = _template(cell, texts)
                cells.append((template, first))
                if ("td", template) not in memo.ids:
                    new["td"][template] = None
            rows.append((unit, cells))
        else:
            first = len(texts)
            template = _template(unit, texts)
            blocks.append((unit, template, first))
            if ("block", template) not in memo.ids:
                new["block"][template] = None
    if not rows and not blocks:
        raise _NoShortcut("no units")
    memo.learn("td", list(new["td"]))
    memo.learn("block", list(new["block"]))

    instances = []  # by placeholder number: (template number, [first text of each part])
    for tr, cells in rows:
        for cell, (template, _first) in zip(tr, cells, strict=True):
            del cell[:]
            cell.text = None
            cell.attrib.clear()
            cell.set("id", f"{_CELL_MARK}{memo.ids['td', template]}{_CELL_MARK}")
        template = etree.tostring(tr, method="html", encoding="unicode", with_tail=False)
        if ("tr", template) not in memo.ids:
            new["tr"][template] = None
        instances.append((template, [first for _t, first in cells]))
    memo.learn("tr", list(new["tr"]))
    instances = [(memo.ids["tr", template], firsts) for template, firsts in instances]
    for n, (tr, _cells) in enumerate(rows):
        del tr[:]  # an empty row in its place: the table keeps its shape
        tr.text = None
        tr.attrib.clear()
        tr.set("id", f"{_UNIT_MARK}{n}{_UNIT_MARK}")
    for n, (block, template, first) in enumerate(blocks, start=len(rows)):
        # A rule in its place: a block boundary, as the block was.
        hr = etree.Element("hr", id=f"{_UNIT_MARK}{n}{_UNIT_MARK}")
        hr.tail = block.tail
        block.getparent().replace(block, hr)
        instances.append((memo.ids["block", template], [first]))

    groups = _group_placeholders(body)

    words = _clean_words(texts)
    if len(words) != len(texts):
        raise _NoShortcut("texts")

    def with_words(html: str, first: int) -> str:
        return _TEXT_PLACEHOLDER.sub(lambda m: words[first + int(m.group(1))], html)

    def unit(number: int) -> str:
        template, firsts = instances[number]
        if number >= len(rows):
            return with_words(memo.html[template], firsts[0])
        cells = iter(firsts)
        return _CELL_PLACEHOLDER.sub(
            lambda c: with_words(memo.html[int(c.group(2))], next(cells)), memo.html[template]
        )

    def group(m) -> str:
        members = groups[int(m.group(1) or m.group(2))]
        return "".join(space + unit(number) for number, space in members)

    return _UNIT_PLACEHOLDER.sub(group, _CLEANER.clean(_serialize(body, whole)))


# html5lib appends each piece of a text (between entities) to the text so far, copying it:
# one text of the whole document's words took time quadratic in its length (12 s for a
# fuzzed 12 MB filing). Cleaned a batch of this many characters at a time instead.
_WORDS_PER_CLEAN = 64_000


def _clean_words(texts: list[str]) -> list[str]:
    """bleach's output for each of `texts` (text without markup), cleaned side by side."""
    words: list[str] = []
    batch: list[str] = []
    size = 0
    for i, text in enumerate(texts):
        batch.append(_html.escape(text, quote=False))
        size += len(batch[-1])
        if size >= _WORDS_PER_CLEAN or i == len(texts) - 1:
            words.extend(_CLEANER.clean(_SEP_MARK.join(batch)).split(_SEP_MARK))
            batch = []
            size = 0
    return words


def _group_placeholders(body) -> list[list[tuple[int, str]]]:
    """Merge each run of sibling placeholders with only blank text between them into
    its first one (blank text between rows or blocks comes out of bleach as it went in);
    returns the members of each group: [(unit number, text before it)...]."""
    groups: list[list[tuple[int, str]]] = []
    leaders = {}  # element -> its group
    for el in [el for el in body.iter("tr", "hr") if (el.get("id") or "")[:1] == _UNIT_MARK]:
        number = int(el.get("id")[1:-1])
        prev = el.getprevious()
        if prev is not None and prev.tag == el.tag and prev in leaders:
            if _BLANK.fullmatch(prev.tail or ""):
                leaders[prev].append((number, prev.tail or ""))
                prev.tail = el.tail
                el.getparent().remove(el)
                continue
        leaders[el] = [(number, "")]
        el.set("id", f"{_UNIT_MARK}{len(groups)}{_UNIT_MARK}")
        groups.append(leaders[el])
    return groups


def _template(unit, texts: list[str]) -> str:
    """`unit` as lxml writes it, its texts (but whitespace, a pre's first text and text
    with control characters) moved to `texts` and numbered placeholders in their place."""
    first = len(texts)
    for el in unit.iter():
        if el.tag != "pre" and _is_plain(el.text):
            texts.append(el.text)
            el.text = f"{_TEXT_MARK}{len(texts) - 1 - first}{_TEXT_MARK}"
        if el is not unit and _is_plain(el.tail):
            texts.append(el.tail)
            el.tail = f"{_TEXT_MARK}{len(texts) - 1 - first}{_TEXT_MARK}"
    return etree.tostring(unit, method="html", encoding="unicode", with_tail=False)


def _cells_in(html: str) -> list[str]:
    return [m.group(2) for m in _CELL_PLACEHOLDER.finditer(html)]


def _find_units(body):
    """The table rows and blocks that html5lib parses the same wherever they stand, as
    (element, "tr" or "block"), in document order, none inside another.

    A row counts when no table is nested in it and no text stands between its cells
    (html5lib moves such text out of the table). A block (p, h1-h6, pre, div...) counts
    when it holds only phrasing elements (b, font, a, br...) and sits in a region (the
    body or a table cell) where html5lib rebuilds no element: no block inside a p-like
    element, no link inside a link, no element of another kind (lists, unknown tags...).
    """
    # Marked once, bottom-up, so that nesting costs no more than size.
    holds_table = _marked_ancestors(body, body.iter("table"))
    holds_block = _marked_ancestors(
        body, (el for el in body.iter() if el.tag not in _PHRASING and el.tag not in _VOID_PHRASING)
    )
    rows = set()
    for tr in body.iter("tr"):
        if _is_space(tr.text) and tr not in holds_table:
            if all(_is_space(cell.tail) for cell in tr):
                rows.add(tr)
    dirty = set()  # regions (body, cells) where html5lib may rebuild something
    found = []  # (unit, its region; None for a row)
    stack = [(child, False, False, body) for child in reversed(body)]
    while stack:
        el, in_p, in_a, region = stack.pop()
        tag = el.tag
        if el in rows:
            found.append((el, None))
            continue
        if tag in ("td", "th"):
            in_p, in_a, region = False, False, el
        elif tag in _TABLE_PARTS:
            if tag == "table" and in_p:
                dirty.add(region)
        elif tag in _PHRASING:
            if tag == "a":
                if in_a:
                    dirty.add(region)
                in_a = True
        elif tag in _VOID_PHRASING or tag == "hr":
            if len(el) or (tag == "hr" and in_p):  # a rule closes an open p
                dirty.add(region)
            continue
        elif tag in _P_LIKE or tag in _BLOCKS:
            if in_p:
                dirty.add(region)
            if tag in _P_LIKE:
                in_p = True
            if el not in holds_block:
                found.append((el, region))
                # Still walked: a link inside a link, a void element with content,
                # make the region dirty.
        else:
            dirty.add(region)
            continue
        stack.extend((child, in_p, in_a, region) for child in reversed(el))
    for el, region in found:
        if region is None:
            yield el, "tr"
        elif region not in dirty:
            yield el, "block"


def _marked_ancestors(body, elements) -> set:
    """The ancestors (below `body`) of any of `elements`."""
    marked = set()
    for el in elements:
        parent = el.getparent()
        while parent is not None and parent is not body and parent not in marked:
            marked.add(parent)
            parent = parent.getparent()
    return marked


def _is_space(text: str | None) -> bool:
    """No text, or only what HTML calls whitespace."""
    return not text or not text.strip(_HTML_SPACE)


def _is_plain(text: str | None) -> bool:
    """Text that can be cleaned apart from its place: not whitespace only (which tables
    treat differently) and no control characters (which bleach treats by position)."""
    return bool(text) and bool(text.strip(_HTML_SPACE)) and not _CONTROL_CHARS.search(text)


def _fallback(html: str) -> str:
    try:
        return text_to_html(strip_tags(clean_input(html)).strip())
    except Exception:  # noqa: BLE001
        return text_to_html("")
