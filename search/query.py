"""The query language (EDGAR-compatible, then more): parsing, repair, and highlighting.

    revenue growth            words are ANDed
    "going concern"           exact phrase
    merger OR acquisition     either word (OR binds tighter than the AND around it)
    -lawsuit  -"class action" exclude a word or a phrase (NOT word works too)
    semicond*                 trailing wildcard (at least two letters before the *)
    "stock option"~5          the words within five words of each other, any order
    form:10-K cik:320193 company:apple type:EX-10   field prefixes

`parse()` returns the query's AST (`ParsedQuery`: an AND of OR-groups of `Clause`s, and
the excluded clauses); each search engine translates it (`search.backends`), so nothing
here knows which engine runs. Parsing never fails: unbalanced quotes are closed, lone
operators and leading wildcards dropped, over-long input cut, each with a message the
page shows. Words are analysed exactly as the index analysed them (`search.index.words`,
no stemming), so `highlight_pattern` marks in plain text exactly the words that made a
document match.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from search.index import words

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 32
MIN_PREFIX = 2
MAX_SLOP = 100
FIELDS = {"form", "cik", "company", "type"}

TOKEN = re.compile(
    r"""
    (?P<neg>-)?
    (?:(?P<field>[A-Za-z_]+):)?
    (?:
        "(?P<phrase>[^"]*)(?P<close>"?)(?:~(?P<slop>\d+))?
      | (?P<word>[^\s"]+)
    )
    """,
    re.X,
)


@dataclass
class Clause:
    kind: str  # word, phrase, prefix, near
    field: str  # body, form, cik, company, type
    words: list[str]
    slop: int = 1
    negated: bool = False

    def text(self) -> str:
        """The clause written back in the query language."""
        prefix = "" if self.field == "body" else f"{self.field}:"
        if self.kind == "prefix":
            body = f"{self.words[0]}*"
        elif self.kind == "word":
            body = self.words[0]
        else:
            body = '"' + " ".join(self.words) + '"'
            if self.kind == "near":
                body += f"~{self.slop}"
        return ("-" if self.negated else "") + prefix + body


@dataclass
class ParsedQuery:
    groups: list[list[Clause]] = field(default_factory=list)  # AND of ORs
    excluded: list[Clause] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.excluded

    @property
    def has_words(self) -> bool:
        return any(c.field == "body" for g in self.groups for c in g)

    def text(self) -> str:
        parts = [" OR ".join(c.text() for c in g) for g in self.groups]
        parts += [c.text() for c in self.excluded]
        return " ".join(parts)

    def body_words(self) -> list[str]:
        return [w for g in self.groups for c in g if c.field == "body" for w in c.words]


def parse(text: str) -> ParsedQuery:
    """Parse the query language; malformed input is repaired, with messages saying how."""
    parsed = ParsedQuery()
    text = (text or "").replace("\x00", " ")
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        parsed.messages.append(
            f"The query was cut to its first {MAX_QUERY_CHARS} characters."
        )
    if text.count('"') % 2:
        parsed.messages.append("An unbalanced quote was closed at the end of the query.")

    pending_or = False
    negate_next = False
    dropped = set()
    for match in TOKEN.finditer(text):
        word = match["word"]
        if word is not None and match["field"] is None and not match["neg"]:
            if word == "OR":
                if parsed.groups and not pending_or:
                    pending_or = True
                else:
                    dropped.add("OR")
                continue
            if word == "AND":
                continue
            if word == "NOT":
                negate_next = True
                continue
        clause = _clause(match, parsed.messages)
        if clause is None:
            continue
        clause.negated = bool(match["neg"]) or negate_next
        negate_next = False
        if len(parsed.groups) + len(parsed.excluded) >= MAX_CLAUSES and not pending_or:
            if "limit" not in dropped:
                parsed.messages.append(
                    f"Only the first {MAX_CLAUSES} terms of the query were used."
                )
            dropped.add("limit")
            break
        if clause.negated:
            if pending_or:
                dropped.add("OR")
                pending_or = False
            parsed.excluded.append(clause)
        elif pending_or:
            parsed.groups[-1].append(clause)
            pending_or = False
        else:
            parsed.groups.append([clause])
    if pending_or:
        dropped.add("OR")
    if negate_next:
        dropped.add("NOT")
    for op in sorted(dropped - {"limit"}):
        parsed.messages.append(f"A lone {op} was ignored: put it between two terms.")
    return parsed


def _clause(match, messages) -> Clause | None:
    field_name = (match["field"] or "").lower()
    word = match["word"]
    if match["field"] and field_name not in FIELDS:
        # "http://..." or "note:": not a field, just words
        word = f"{match['field']}:{word or match['phrase'] or ''}"
        field_name = ""
    field_name = field_name or "body"

    if word is None:  # a quoted phrase
        raw = match["phrase"] or ""
        if field_name in ("form", "type", "cik"):
            return _field_value(field_name, raw.strip(), messages)
        words = _analyze(raw.replace("*", " "))
        if not words:
            return None
        slop = match["slop"]
        if slop is not None and len(words) > 1:
            return Clause("near", field_name, words, slop=max(1, min(int(slop), MAX_SLOP)))
        return Clause("word" if len(words) == 1 else "phrase", field_name, words)

    word = word.strip("()[]{}")
    if field_name in ("form", "type", "cik"):
        return _field_value(field_name, word, messages)
    prefix = False
    if "*" in word or "?" in word:
        core = word.rstrip("*")
        if "*" in core or "?" in core or not word.endswith("*"):
            messages.append(
                f"Wildcards work only at the end of a word: {word} was read as "
                f"{word.replace('*', '').replace('?', '')}."
            )
            core = core.replace("*", "").replace("?", "")
            prefix = word.endswith("*") and not word.startswith("*")
        else:
            prefix = True
        word = core
    words = _analyze(word)
    if not words:
        return None
    if prefix and len(words) == 1:
        if len(words[0]) < MIN_PREFIX:
            messages.append(
                f"A wildcard needs at least {MIN_PREFIX} letters before the *: "
                f"{words[0]}* was left out."
            )
            return None
        return Clause("prefix", field_name, words)
    if len(words) == 1:
        return Clause("word", field_name, words)
    # "10-K" and "e-mail" are indexed as consecutive words: search them as a phrase.
    return Clause("phrase", field_name, words)


def _field_value(field_name: str, value: str, messages) -> Clause | None:
    value = value.strip()
    if not value:
        return None
    if field_name == "cik":
        if not value.isdigit():
            messages.append(f"cik: takes a number; {value} was left out.")
            return None
        return Clause("word", "cik", [str(int(value))])
    if field_name == "form" and value.endswith("*") and len(value) > 1:
        return Clause("prefix", "form", [value.rstrip("*").upper()])
    value = value.replace("*", "")
    return Clause("word", field_name, [value.upper()]) if value else None


def _analyze(text: str) -> list[str]:
    return words(text)


# --- Highlighting: the same words, found in plain text ---------------------------------------

# A token starts where no word character (or word character plus dot) precedes it and
# ends where none follows: the index tokenizer's `\w+(\.?\w+)*` rule, as lookarounds.
# The start test is written after the word (a lookbehind over the word itself) so the
# regex begins with a literal, which `re` finds with a fast scan: ten times faster on a
# long document than a leading lookbehind tried at every position.
_END = r"(?!\.?\w)"


def _starting(word: str) -> str:
    w = re.escape(word)
    return rf"{w}(?<!\w{w})(?<!\w\.{w})"


def clause_regexes(clause: Clause) -> list[str]:
    if clause.field != "body" or clause.negated:
        return []
    first = clause.words[0]
    if clause.kind == "prefix":
        return [_starting(first) + r"(?:\.?\w)*"]
    if clause.kind == "word":
        return [_starting(first) + _END]
    if clause.kind == "near":
        return [_starting(w) + _END for w in clause.words]
    rest = "".join(r"\W+" + re.escape(w) + _END for w in clause.words[1:])
    return [_starting(first) + _END + rest]


@functools.lru_cache(maxsize=512)
def highlight_pattern(q: str) -> re.Pattern | None:
    """A case-insensitive regex matching in plain text exactly the hits `q` highlights:
    its words, phrases (any whitespace or punctuation between the words) and wildcard
    prefixes; not excluded terms, not field prefixes. None when there is nothing to mark."""
    return pattern_for(parse(q))


def pattern_for(parsed: ParsedQuery, flags=re.IGNORECASE) -> re.Pattern | None:
    """The highlight regex of a parsed query. With flags=0 it matches lower-cased text
    (the query's words are lower case already): snippets search `text.lower()`, which
    is several times faster than a case-insensitive scan."""
    regexes = [r for g in parsed.groups for c in g for r in clause_regexes(c)]
    if not regexes:
        return None
    # Longest first, so a phrase wins over a word it contains.
    regexes = sorted(set(regexes), key=len, reverse=True)
    # No (?:...) around the branches (none holds a top-level |): re optimises a bare
    # alternation of literals, and wrapping each branch makes a scan ten times slower.
    return re.compile("|".join(regexes), flags)
