"""Plain text of a filing document, for the search index and result snippets.

Pure Python + lxml (no Django): runs in ingest worker processes. `extract_text` never
raises; hostile or broken input gives the best text that can be had, or "".

Shape of the output, for every kind: one logical line per block (paragraph, table row,
list item, heading, SGML line, XML leaf); within a line runs of spaces collapse to one
space, table cells are separated by a single tab; no blank lines; no leading or trailing
whitespace.
"""

from __future__ import annotations

import html as _html
import re

from lxml import etree

__all__ = [
    "bound_attributes",
    "drop_tag",
    "drop_tree",
    "extract_text",
    "html_text",
    "parse_html",
    "remove_invisible",
    "strip_tags",
]

# Elements whose content is never visible text. Inline-XBRL's `ix:header` (hidden facts,
# contexts, units) is among them, whatever prefix the document binds to the namespace.
INVISIBLE_TAGS = frozenset(
    """script style noscript template head title meta link base object embed applet
    iframe frame frameset noframes noembed svg math textarea select option button input
    datalist audio video canvas map area param source track xml""".split()
)

# HTML5 void elements: they never have content. libxml2 does not know all of them and
# may hang the following content under one (`<embed src=x><table>...`), so removing one
# keeps its "children".
VOID_TAGS = frozenset(
    "area base br col embed frame hr img input keygen link meta param source track wbr".split()
)


def remove_invisible(root) -> None:
    """Remove every invisible element under `root` (not root itself), keeping tails."""
    for el in [el for el in root.iter() if is_invisible(el)]:
        if el is root or el.getparent() is None:
            continue
        if el.tag in VOID_TAGS:
            drop_tag(el)
        else:
            drop_tree(el)


def drop_tree(el) -> None:
    """Remove `el` and its content; its tail stays where it was."""
    parent = el.getparent()
    if el.tail:
        _append_text_before(el, parent, el.tail)
    parent.remove(el)


def drop_tag(el) -> None:
    """Remove `el` but keep its text, children and tail in its place."""
    parent = el.getparent()
    if el.text and isinstance(el.tag, str):
        _append_text_before(el, parent, el.text)
    if el.tail:
        if len(el):
            last = el[-1]
            last.tail = (last.tail or "") + el.tail
        else:
            _append_text_before(el, parent, el.tail)
    index = parent.index(el)
    parent[index : index + 1] = el[:]


def _append_text_before(el, parent, text: str) -> None:
    previous = el.getprevious()
    if previous is None:
        parent.text = (parent.text or "") + text
    else:
        previous.tail = (previous.tail or "") + text


# Elements that start a new line of text.
BLOCK_TAGS = frozenset(
    """p div br hr tr li dt dd h1 h2 h3 h4 h5 h6 table thead tbody tfoot caption ul ol dl
    pre blockquote address center section article header footer nav aside main figure
    figcaption form fieldset legend page""".split()
)
CELL_TAGS = frozenset(("td", "th"))
# Blocks whose text starts a new line (br and hr only end one).
_TEXT_BLOCKS = BLOCK_TAGS - {"br", "hr"}

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
# The <XBRL> / <XML> wrapper EDGAR puts around XML-ish documents inside <TEXT>.
_EDGAR_WRAPPER_START = re.compile(r"^\s*<(?:XBRL|XML)>\s*", re.I)
# C0 controls other than tab, newline, carriage return (lxml and browsers choke on them),
# unpaired surrogates, and the two private-use characters _html_text uses as markers.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ue000\ue001\ufffe\uffff]")
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.I)
# Neither can cross a "<", so each "<" is tried once: linear. Comments are found with
# str.find (see strip_tags).
_TAG = re.compile(r"<[!?/]?[a-zA-Z][^<>]*>|<![^<>]*>")
# 1990s EDGAR SGML markup inside plain-text documents: pages, tables, columns, footnotes,
# revision marks. Only these exact tags: other <WORD> text stays.
_SGML_MARKUP = re.compile(r"</?(?:PAGE|TABLE|CAPTION|S|C|FN|F\d{1,3}|R)>", re.I)
_FDS_TAG = re.compile(r"^[ \t]*<([A-Z][A-Z0-9&-]*)>", re.M)
_FDS_END_TAG = re.compile(r"^[ \t]*</[A-Z][A-Z0-9&-]*>", re.M)
# Whitespace other than space, newline and tab (what `\s` matches: str.isspace(), all in
# the BMP) becomes a space, spelled out so that the regex tests a set, not a category;
# then runs of spaces, and runs of spaces and tabs holding a tab.
_OTHER_SPACES = "".join(c for c in map(chr, range(0x10000)) if c.isspace() and c not in " \n\t")
_OTHER_SPACE = re.compile(f"[{re.escape(_OTHER_SPACES)}]")
_INVISIBLE_CHARS = re.compile("[\u200b\u200c\u200d\u2060\ufeff\xad]")
_SPACE_RUN = re.compile(" {2,}")
_SPACES_WITH_TAB = re.compile(r"[ \t]*\t[ \t]*")
_BLANK_LINES = re.compile(r"\n{2,}")
_LINE = "\ue000"  # private-use characters, removed from input by clean_input
_CELL = "\ue001"
_SOURCE_SPACE = re.compile(r"[\t\n\r\xa0]")


def clean_input(content: str) -> str:
    """`content` as a str without control characters, NULs, or an XML declaration."""
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    elif not isinstance(content, str):
        content = str(content or "")
    content = _CONTROL.sub("", content)
    content = _EDGAR_WRAPPER_START.sub("", content, count=1)
    content = _XML_DECL.sub("", content, count=1)
    return content


# libxml2 checks each attribute of a start tag against all earlier ones: time quadratic in
# attributes per tag (a fuzzed tag of 80,000 attribute names took 89 s). No real document
# comes near this many, so a tag is cut after it before libxml2 sees it.
MAX_ATTRIBUTES = 200
_WS = "\t\n\x0c\r "
# One attribute as HTML5 (and libxml2 2.14) tokenizes it inside a start tag: separators,
# a name (its first character may be "="), and an optional value. Possessive throughout:
# no backtracking, so each character is looked at a bounded number of times.
_ATTRIBUTE = re.compile(
    f"[{_WS}/]*+([^{_WS}/>][^{_WS}/>=]*+)"
    f"(?:[{_WS}]*+=[{_WS}]*+(?:\"[^\"]*+\"?|'[^']*+'?|[^{_WS}>]*+))?+"
)
_SIMPLE_ATTRIBUTE = (
    f"[{_WS}/]++[^{_WS}/<>=\"'][^{_WS}/<>=\"']*+"
    f"(?:[{_WS}]*+=[{_WS}]*+(?:\"[^\"]*+\"|'[^']*+'|[^{_WS}<>=\"'`]++))?+"
)
# Text, comments and start tags of at most MAX_ATTRIBUTES plain attributes, skipped in one
# C-level match; it stops at a start tag that needs a closer look (or the end).
_UP_TO_CLOSER_LOOK = re.compile(
    f"(?:[^<]++|<!--(?:[^-]++|-(?!->))*+(?:-->)?|<(?![A-Za-z])"
    f"|<[A-Za-z][^{_WS}/>]*+(?:{_SIMPLE_ATTRIBUTE}){{0,{MAX_ATTRIBUTES}}}+[{_WS}/]*+>)*+"
)


_TAG_NAME = re.compile(f"<[A-Za-z][^{_WS}/>]*+")
_SEPARATORS = re.compile(f"[{_WS}/]*+")


def bound_attributes(content: str) -> str:
    """`content` with every start tag cut after MAX_ATTRIBUTES attributes (the first ones
    kept as written). Linear: each tag is read once, as HTML5 tokenizes it."""
    pieces = []
    copied = pos = 0  # content[:copied] is in pieces
    end = len(content)
    while True:
        pos = _UP_TO_CLOSER_LOOK.match(content, pos).end()
        if pos >= end:
            break
        # A start tag with odd attributes (quotes in names...) or very many of them.
        pos = _TAG_NAME.match(content, pos).end()
        count = 0
        cut = None
        while m := _ATTRIBUTE.match(content, pos):
            count += 1
            if count > MAX_ATTRIBUTES and cut is None:
                cut = pos
            pos = m.end()
        pos = _SEPARATORS.match(content, pos).end()  # now at ">" or the end
        if cut is not None:
            pieces.append(content[copied:cut])
            pieces.append(">")
            copied = pos + 1
        pos += 1
    if not pieces:
        return content
    pieces.append(content[copied:])
    return "".join(pieces)


def parse_html(content: str):
    """Parse an HTML, XHTML or inline-XBRL document robustly; the root element, or None.

    Never touches the network, never loads a DTD; comments and processing instructions
    are dropped at parse time. Namespaced tags keep their prefix, lowercased
    (`ix:nonnumeric`). Content is handed to libxml2 as UTF-8 bytes with the encoding
    stated, so an `<?xml encoding=...?>` or `<meta charset>` in the text cannot garble it.
    """
    try:
        content = bound_attributes(clean_input(content))
        if not content.strip():
            return None
        # lxml's plain element classes: lxml.html's own look each element's class up in
        # Python, a cost paid on every element the passes below touch.
        parser = etree.HTMLParser(
            encoding="utf-8",
            remove_comments=True,
            remove_pis=True,
            huge_tree=True,
            no_network=True,
            recover=True,
            default_doctype=False,
        )
        return etree.fromstring(content.encode("utf-8"), parser)
    except Exception:  # noqa: BLE001 - hostile input: any failure means "no tree"
        return None


def is_invisible(el) -> bool:
    """True for an element whose content a reader never sees."""
    tag = el.tag
    if not isinstance(tag, str):
        return True  # comment, PI, entity
    tag = tag.lower()
    if tag in INVISIBLE_TAGS or tag.partition(":")[2] == "header":  # ix:header, any prefix
        return True
    style = el.get("style")
    return bool(style and _DISPLAY_NONE.search(style))


def strip_tags(content: str) -> str:
    """Text of markup by brute force (for input no parser accepts): tags removed,
    entities decoded."""
    # `<!--.*?-->` in the pattern searched for "-->" from every unclosed "<!--": time
    # quadratic in their number (20,000: 41 s). A comment ends at the first "-->" after
    # it; once none is left, no later "<!--" is a comment either.
    pieces = []
    pos = 0
    while (start := content.find("<!--", pos)) >= 0:
        end = content.find("-->", start + 4)
        if end < 0:
            break
        pieces.append(_TAG.sub(" ", content[pos:start]))
        pieces.append(" ")
        pos = end + 3
    pieces.append(_TAG.sub(" ", content[pos:]))
    return _html.unescape("".join(pieces))


def normalize(text: str) -> str:
    """Collapse whitespace as the module docstring says."""
    text = _INVISIBLE_CHARS.sub("", text)
    text = _OTHER_SPACE.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    # A run of whitespace holding a tab becomes one tab, any other run one space: in
    # C-level passes over the whole text rather than a Python call per run, all linear
    # (each run is first cut down to single spaces between its tabs).
    text = _SPACES_WITH_TAB.sub("\t", _SPACE_RUN.sub(" ", text))
    text = "\n".join([line.strip() for line in text.split("\n")])
    return _BLANK_LINES.sub("\n", text).strip()


def _html_text(content: str) -> str:
    return html_text(parse_html(content), content)


def html_text(root, content: str, invisible_removed: bool = False) -> str:
    """`extract_text` for an HTML document already parsed by `parse_html` (`root`; None
    when it did not parse) from `content`; `invisible_removed`: the caller has run
    `remove_invisible(root)`. Reads the tree without changing it (but for removing the
    invisible elements when the caller has not), so the sanitizer can use the same tree
    afterwards: no copy of it (a 100 MB document's tree is over 1 GB)."""
    if root is None:
        return normalize(strip_tags(clean_input(content)))
    if is_invisible(root):
        return ""
    if not invisible_removed:
        remove_invisible(root)
    # The text in document order, as `itertext()` gives it, with a line break around
    # every block (before its text and its tail), after each br/hr and a cell break after
    # each cell. Breaks are marked with characters that cannot occur in the content
    # (clean_input removed them), because the source's own newlines and tabs are mere
    # spaces in HTML; inside a pre, its newlines are line breaks.
    parts: list[str] = []
    append = parts.append
    in_pre = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag
        if event == "start":
            if tag == "pre":
                in_pre += 1
            if tag in _TEXT_BLOCKS:
                append(_LINE)
            text = el.text
            if text:
                append(text.replace("\n", _LINE) if in_pre else text)
            continue
        if el is root:
            break  # itertext() leaves out the root's tail
        if tag == "pre":
            in_pre -= 1
        if tag in BLOCK_TAGS:
            append(_LINE)
        elif tag in CELL_TAGS:
            append(_CELL)
        tail = el.tail
        if tail:
            append(tail.replace("\n", _LINE) if in_pre else tail)
    text = _SOURCE_SPACE.sub(" ", "".join(parts))
    return normalize(text.replace(_LINE, "\n").replace(_CELL, "\t"))


def _sgml_text(content: str) -> str:
    content = clean_input(content)
    content = _SGML_MARKUP.sub("", content)
    # EX-27 financial data schedules label each value with a tag (`<TOTAL-ASSETS> 1,234`):
    # the label is kept as a word, its brackets go.
    content = _FDS_TAG.sub(r"\1 ", _FDS_END_TAG.sub("", content))
    return normalize(content.replace("\t", " "))


def _without_wrapper_end(content: str) -> str:
    """`content` without a closing </XBRL> or </XML> at its end. String methods, not a
    regex: `\\s*</(?:XBRL|XML)>\\s*$` retried its whitespace run from every position, so a
    long run not followed by the tag took quadratic time (80,000 spaces: 9 s)."""
    body = content.rstrip()
    for closer in ("</xbrl>", "</xml>"):
        if body[-len(closer) :].lower() == closer:
            return body[: -len(closer)].rstrip()
    return content


def parse_xml(content: str, recover: bool = False):
    """Parse an XML document from a filing (EDGAR's <XML> wrapper and the declaration
    removed); the root element, or None when there is nothing to parse. Filings are
    hostile: no entities are resolved, no DTD is loaded, nothing touches the network.
    With recover=False malformed XML raises etree.XMLSyntaxError."""
    content = _without_wrapper_end(clean_input(content).lstrip("\ufeff"))
    content = _XML_DECL.sub("", content, count=1).strip()
    if not content:
        return None
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
        remove_blank_text=True,
        recover=recover,
    )
    return etree.fromstring(content.encode("utf-8"), parser)


def _xml_text(content: str) -> str:
    try:
        root = parse_xml(content)
    except Exception:  # noqa: BLE001 - malformed XML: fall back to stripping tags
        root = None
    if root is None:
        return normalize(strip_tags(clean_input(content)).replace("\t", " "))
    lines = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        text = (el.text or "").strip()
        if text:
            if len(el):
                lines.append(text)  # mixed content: the words, without a label
            else:
                name = etree.QName(el).localname
                parent = el.getparent()
                if name == "value" and parent is not None and _wraps_value(parent):
                    # Ownership forms wrap values: <transactionShares><value>100</value>
                    name = etree.QName(parent).localname
                lines.append(f"{name}: {text}")
        tail = (el.tail or "").strip()
        if tail and el is not root:
            lines.append(tail)
    return normalize("\n".join(line.replace("\t", " ") for line in lines))


def _wraps_value(parent) -> bool:
    """True for an ownership-form wrapper: <x><value>..</value><footnoteId/></x>."""
    return all(
        isinstance(c.tag, str) and etree.QName(c).localname in ("value", "footnoteId")
        for c in parent
    )


def extract_text(kind: str, content: str) -> str:
    """Plain text of one document's `content`, by its `kind`:

    - "html", "ixbrl": the visible text. Script, style, head, title, forms' controls,
      inline-XBRL's hidden `ix:header` and any `display:none` element are left out;
      block elements (p, div, br, tr, li, h1-h6, table...) end lines, table cells are
      separated by a tab; entities are decoded (`&nbsp;` / `&#160;` become spaces).
    - "text": the text as filed, with 1990s SGML markup tags (`<PAGE>`, `<TABLE>`, `<S>`,
      `<C>`, `<CAPTION>`, `<FN>`, `<F1>`, `<R>` and their closing tags) removed, the words
      kept; a tag opening a line (EX-27's `<TOTAL-ASSETS> 1,234`) keeps its name as a word.
    - "xml": one line per element with a value, as `elementName: value` (a `<value>`
      element that only wraps a value is named after its parent, as in ownership forms:
      `transactionShares: 100`). Entities are not resolved, no DTD or network access;
      malformed XML falls back to its text with tags stripped.
    - "json", "xbrl", "pdf", "image", "binary", "other", or any unknown kind: "" (not
      indexed). "other" is textual content no parser claims (scripts, stylesheets,
      unknown formats): indexing it would fill results with code, so it is left out.

    Never raises: on any unexpected failure the result is "".
    """
    try:
        if not content:
            return ""
        if kind in ("html", "ixbrl"):
            return _html_text(content)
        if kind == "text":
            return _sgml_text(content)
        if kind == "xml":
            return _xml_text(content)
        return ""
    except Exception:  # noqa: BLE001 - never raise at ingest
        return ""
