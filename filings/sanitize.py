"""Sanitized HTML of a filing document, made once at ingest and shown as-is.

Filings are hostile input. Two passes:

1. lxml: parse robustly (HTML, XHTML, inline XBRL), drop every element that can run code,
   load something, or is never visible (script, style, iframe, object, svg, math, forms'
   controls, head, `ix:header`, `display:none` elements...); unwrap forms, inline-XBRL
   `ix:*` and other namespaced tags keeping their text; drop attributes outside the
   allowlist; resolve images of the same filing through the caller's `resolve_image`
   and drop every other image; mark external links `rel="nofollow noopener noreferrer"`.
2. bleach, once, on the serialized result: the allowlists below, enforced again by a
   second, HTML5-conformant parser, so what reaches the browser is what was checked.

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

import html as _html
import re
from collections.abc import Callable
from functools import lru_cache

import bleach
import tinycss2
from bleach.css_sanitizer import CSSSanitizer
from lxml import html as lxml_html

from filings.text import clean_input, parse_html, remove_invisible, strip_tags

__all__ = ["SANITIZER_VERSION", "sanitize_html", "text_to_html"]

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


_CSS_SANITIZER = _FilingCSSSanitizer()
_CLEANER = bleach.sanitizer.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    css_sanitizer=_CSS_SANITIZER,
)

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


def _prune(root, resolve_image: Callable[[str], str | None]) -> None:
    """The lxml pass: structural removal, unwrapping, attribute and URL filtering."""
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
            el.drop_tag()


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
        if root is None:
            return "" if not (html or "").strip() else _fallback(html)
        body = root.find("body")
        if body is None:
            if root.tag != "html":
                body = root
            else:
                return _fallback(html)
        _prune(body, resolve_image)
        if body.get("style"):
            # The body's typography (font family and size, mostly) applies to all of it.
            body.tag = "div"
            body.tail = None
            content = lxml_html.tostring(body, encoding="unicode", method="html")
        else:
            content = _serialize_children(body)
        return _CLEANER.clean(content).strip()
    except Exception:  # noqa: BLE001 - never raise at ingest
        return _fallback(html)


def _fallback(html: str) -> str:
    try:
        return text_to_html(strip_tags(clean_input(html)).strip())
    except Exception:  # noqa: BLE001
        return text_to_html("")
