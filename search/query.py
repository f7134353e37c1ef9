"""The query language (EDGAR-compatible, then more): parsing, repair, and highlighting.

    revenue growth            words are ANDed
    "going concern"           exact phrase
    merger OR acquisition     either word (OR binds tighter than the AND around it)
    -lawsuit  -"class action" exclude a word or a phrase (NOT word works too)
    semicond*                 trailing wildcard (at least two letters before the *)
    "stock option"~5          the words within five words of each other, any order
    form:10-K cik:320193 company:apple type:EX-10   field prefixes
    ticker:AAPL file:001-04482   a company by its ticker; filings under a file number
    form:(10-K OR 8-K)        a field applies to every term of its group
    section:1A cybersecurity  the terms after it match only inside Item 1A of a 10-K, 10-Q
                              or 8-K (up to the next section:); alone, filings with one

`parse()` returns the query's AST (`ParsedQuery`: an AND of OR-groups of `Clause`s, and
the excluded clauses); each search engine translates it (`search.backends`), so nothing
here knows which engine runs. Parsing never fails: unbalanced quotes are closed, lone
operators and leading wildcards dropped, over-long input cut, each with a message the
page shows. Words are analysed exactly as the index analysed them (`search.index.words`,
no stemming), so `highlight_pattern` marks in plain text exactly the words that made a
document match.
"""
from __future__ import annotations

import bisect
import functools
import itertools
import re
from dataclasses import dataclass, field

from search.index import WORD_PATTERN, words
from search.positions import spans_near

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 32
MIN_PREFIX = 2
MAX_SLOP = 100
FIELDS = {"form", "cik", "company", "type", "section", "ticker", "file"}

SECTION_ITEM = re.compile(r"\s*(\d{1,2}(?:\.\d{2})?)\s*([A-C]?)\.?\s*")  # section:1A
MAX_GROUPS = 64  # AND-ed groups parentheses may expand to (see _cnf)
# Parentheses nested deeper are read as spaces: the parser recurses once per level.
MAX_DEPTH = 32
# Prefixes that are not fields but the start of an address: searched as words, silently.
_NOT_FIELDS = {"http", "https", "ftp", "mailto", "www", "file"}

TOKEN = re.compile(
    r"""
    # A group, perhaps of one field: form:(10-K OR 8-K) is form:10-K OR form:8-K.
    (?P<open>-?(?:(?P<group_field>(?i:form|cik|company|type|ticker|file)):)?\()
  | (?P<shut>\))
  | (?P<neg>-)?
    (?:(?P<field>[A-Za-z_]+):)?
    (?:
        "(?P<phrase>[^"]*)(?P<close>"?)(?:~(?P<slop>\d+))?
        # A word holds no quote; parentheses only inside it, as in 1(a) or 10b-5(c).
      | (?P<word>[^\s"()]+(?:\([^\s"()]*\)[^\s"()]*)*)
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
    # A body clause after section:1A matches only inside that item's sections: "1a".
    section: str = ""

    def in_section(self) -> Clause:
        """The clause over the index's `section_body`, whose words are tagged with their
        section's item ("1a:risk", search.index.section_words), so a phrase or a
        proximity inside a section is searched like one in the body."""
        return Clause(self.kind, "section_body", [f"{self.section}:{w}" for w in self.words],
                      self.slop, self.negated)

    def text(self) -> str:
        """The clause written back in the query language."""
        prefix = "" if self.field == "body" else f"{self.field}:"
        if self.field == "section":
            return ("-" if self.negated else "") + f"section:{self.words[0].upper()}"
        if self.kind == "prefix":
            body = f"{self.words[0]}*"
        elif self.kind == "word":
            body = self.words[0]
        else:
            body = '"' + " ".join(self.words) + '"'
            if self.kind == "near":
                body += f"~{self.slop}"
        if self.section:  # the scope first: section:1A -breach
            return f"section:{self.section.upper()} " + ("-" if self.negated else "") + body
        return ("-" if self.negated else "") + prefix + body


@dataclass
class ParsedQuery:
    groups: list[list[Clause]] = field(default_factory=list)  # AND of ORs
    excluded: list[Clause] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    # The query had text, but no term came of it ("€", "*", '""'): nothing is searched.
    no_terms: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.excluded

    @property
    def has_words(self) -> bool:
        return any(c.field == "body" for g in self.groups for c in g)

    def text(self) -> str:
        # section:1A alone is implied by the terms it scopes (section:1A cyber), which
        # are written with it.
        scoped = {c.section for g in self.groups for c in g if c.section}
        parts = [" OR ".join(c.text() for c in g) for g in self.groups
                 if not (len(g) == 1 and g[0].field == "section" and g[0].words[0] in scoped)]
        parts += [c.text() for c in self.excluded]
        return " ".join(parts)

    def body_words(self) -> list[str]:
        return [w for g in self.groups for c in g if c.field == "body" for w in c.words]


class _TooComplex(Exception):
    pass


def parse(text: str) -> ParsedQuery:
    """Parse the query language; malformed input is repaired, with messages saying how.

    Terms are ANDed, OR binds tighter than the AND around it, parentheses group
    (`merger OR (acquisition revenue)`), and a minus or NOT excludes a term or a group
    of alternatives. The tree is then written as an AND of OR-groups (its conjunctive
    normal form), which every engine runs: `a OR (b c)` is `(a OR b) (a OR c)`."""
    parsed = ParsedQuery()
    text = (text or "").replace("\x00", " ")
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        parsed.messages.append(
            f"The query was cut to its first {MAX_QUERY_CHARS} characters."
        )
    if text.count('"') % 2:
        parsed.messages.append("An unbalanced quote was closed at the end of the query.")
    tree = _Parser(text, parsed.messages).tree()
    try:
        groups = _cnf(tree)
    except _TooComplex:
        parsed.messages.append(
            f"The parentheses make more than {MAX_GROUPS} combinations of terms; "
            f"the query was read without them."
        )
        flat = text.replace("(", " ").replace(")", " ")
        groups = _cnf(_Parser(flat, []).tree())
    seen = set()
    dropped = False  # a group left out for a reason a message gives
    for group in groups:
        group = list({c.text(): c for c in group}.values())
        key = frozenset(c.text() for c in group)
        if key in seen:
            continue
        seen.add(key)
        negative = [c for c in group if c.negated]
        if len(group) == 1 and negative:
            parsed.excluded.append(negative[0])
        elif not negative:
            parsed.groups.append(group)
        elif len(negative) == len(group):  # -(a b): not all of them
            dropped = True
            _say(parsed.messages,
                 "A minus before a group of several terms (as in -(a b)) cannot be searched: "
                 + " ".join(c.text()[1:] for c in group) + " was not excluded.")
        else:  # a OR -b: dropping the group leaves what ignoring -b means, (a OR ...)
            dropped = True
            _say(parsed.messages,
                 "An excluded term cannot be one of several alternatives (OR): "
                 + ", ".join(c.text() for c in negative) + " was ignored.")
    if text.strip() and parsed.is_empty and dropped:
        parsed.no_terms = True  # the query has words; the messages above say why not used
        parsed.messages.append("No other term was left to search for, so nothing was "
                               "searched.")
    elif text.strip() and parsed.is_empty:
        parsed.no_terms = True
        parsed.messages.append(
            f"“{text.strip()[:80]}” has no words to search for (a word is letters or "
            f"digits), so nothing was searched. Type a word, a \"phrase\" or a field "
            f"such as form:10-K."
        )
    return parsed


def _say(messages: list[str], message: str):
    if message not in messages:
        messages.append(message)


class _Parser:
    """The query's tree: ("clause", Clause) | ("and", [nodes]) | ("or", [nodes]) |
    ("not", node). Operators out of place are dropped, with a message."""

    def __init__(self, text: str, messages: list[str]):
        self.tokens = list(TOKEN.finditer(text))
        self.position = 0
        self.messages = messages
        self.clauses = 0
        self.dropped: set[str] = set()
        self.full = False
        self.flattened = 0  # "(" past MAX_DEPTH read as spaces, whose ")" are too

    def tree(self):
        node = self.sequence(depth=0, field=None)
        for op in sorted(self.dropped):
            self.messages.append(f"A lone {op} was ignored: put it between two terms.")
        return node

    def sequence(self, depth: int, field: str | None, section: str = ""):
        """The terms up to the ) that closes this depth; `field` is a field group's
        field (form:(...)), which every term of the group without its own takes."""
        items: list = []
        pending_or = False
        negate_next = False
        while self.position < len(self.tokens):
            match = self.tokens[self.position]
            self.position += 1
            if match["shut"]:
                if self.flattened:
                    self.flattened -= 1
                    continue
                if depth:
                    break
                _say(self.messages, "A ) without its ( was ignored.")
                continue
            if match["open"]:
                if depth >= MAX_DEPTH:
                    self.flattened += 1
                    _say(self.messages, f"Parentheses nested more than {MAX_DEPTH} deep "
                                        f"were read as spaces.")
                    continue
                group_field = match["group_field"]
                node = self.sequence(depth + 1, group_field.lower() if group_field else field,
                                     section)
                if node is None:
                    continue
                negated = match["open"].startswith("-") or negate_next
            else:
                word = match["word"]
                if word is not None and match["field"] is None and not match["neg"]:
                    if word == "OR":
                        if items and not pending_or and items[-1][0] != "not":
                            pending_or = True
                        else:
                            self.dropped.add("OR")
                        continue
                    if word == "AND":
                        continue
                    if word == "NOT":
                        negate_next = True
                        continue
                if self.full:
                    continue
                clause = _clause(match, self.messages, field)
                if clause is None:
                    continue
                if clause.field == "section" and not (match["neg"] or negate_next):
                    section = clause.words[0]  # scopes the body terms after it
                elif clause.field == "body" and section:
                    clause.section = section
                self.clauses += 1
                if self.clauses > MAX_CLAUSES:
                    self.full = True
                    self.messages.append(
                        f"Only the first {MAX_CLAUSES} terms of the query were used."
                    )
                    continue
                node = ("clause", clause)
                negated = bool(match["neg"]) or negate_next
            negate_next = False
            if negated:
                node = ("not", node)
                if pending_or:
                    self.dropped.add("OR")
                    pending_or = False
                items.append(node)
            elif pending_or:
                last = items.pop()
                alternatives = last[1] if last[0] == "or" else [last]
                items.append(("or", [*alternatives, node]))
                pending_or = False
            else:
                items.append(node)
        else:
            if depth:
                _say(self.messages, "An unclosed ( was closed at the end of the query.")
        if pending_or:
            self.dropped.add("OR")
        if negate_next:
            self.dropped.add("NOT")
        if not items:
            return None
        return items[0] if len(items) == 1 else ("and", items)


def _cnf(node) -> list[list[Clause]]:
    """The tree as an AND of OR-groups of (possibly negated) clauses."""
    if node is None:
        return []
    kind, value = node
    if kind == "clause":
        return [[value]]
    if kind == "and":
        return [group for child in value for group in _cnf(child)]
    if kind == "or":
        groups: list[list[Clause]] = [[]]
        for child in value:
            groups = [g + h for g in groups for h in _cnf(child)]
            if len(groups) > MAX_GROUPS:
                raise _TooComplex
        return groups
    # "not": NOT (a OR b) is -a -b; NOT (a b) is (-a OR -b), which no engine runs as
    # such: the group is dropped by parse(), with a message.
    return [[_negated(c) for c in group] for group in _not_cnf(value)]


def _not_cnf(node) -> list[list[Clause]]:
    """The CNF of NOT node, before negating its clauses (De Morgan)."""
    kind, value = node
    if kind == "not":
        return [[_negated(c) for c in group] for group in _cnf(value)]
    if kind == "clause":
        return [[value]]
    if kind == "or":  # NOT (a OR b) = NOT a AND NOT b
        return [group for child in value for group in _not_cnf(child)]
    # NOT (a AND b) = NOT a OR NOT b
    groups: list[list[Clause]] = [[]]
    for child in value:
        groups = [g + h for g in groups for h in _not_cnf(child)]
        if len(groups) > MAX_GROUPS:
            raise _TooComplex
    return groups


def _negated(clause: Clause) -> Clause:
    return Clause(clause.kind, clause.field, clause.words, clause.slop, not clause.negated,
                  clause.section)


def _clause(match, messages, group_field: str | None = None) -> Clause | None:
    field_name = (match["field"] or "").lower() or group_field or ""
    word = match["word"]
    address = field_name == "file" and (word or "").startswith("//")  # file:///a/b
    if match["field"] and (field_name not in FIELDS or address):
        # "http://..." or "note:": not a field, just words
        value = word if word is not None else f'"{match["phrase"] or ""}"'
        if field_name not in _NOT_FIELDS:
            _say(messages, f"{match['field']}: is not a field, so {match['field']}:{value} "
                           f"was searched as words. The fields are form:, cik:, company:, "
                           f"ticker:, file:, type: and section:.")
        word = f"{match['field']}:{word or match['phrase'] or ''}"
        field_name = ""
    field_name = field_name or "body"
    if field_name in ("ticker", "file"):  # one exact value: AAPL, 001-04482
        value = match["phrase"] if word is None else word.strip("()[]{}")
        return _field_value(field_name, value or "", messages)

    if word is None:  # a quoted phrase
        raw = match["phrase"] or ""
        if field_name in ("form", "type", "cik", "section"):
            return _field_value(field_name, raw.strip(), messages)
        words = _analyze(raw.replace("*", " "))
        if not words:
            return None
        slop = match["slop"]
        if slop is not None and len(words) > 1:
            return Clause("near", field_name, words, slop=max(1, min(int(slop), MAX_SLOP)))
        return Clause("word" if len(words) == 1 else "phrase", field_name, words)

    word = word.strip("()[]{}")
    if field_name in ("form", "type", "cik", "section"):
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
    if field_name == "section":
        item = SECTION_ITEM.fullmatch(value.upper().removeprefix("ITEM"))
        if item is None:
            messages.append(f"section: takes an item number such as 1A, 7 or 2.02; "
                            f"{value} was left out.")
            return None
        number, letter = item.groups()
        return Clause("word", "section", [(number.lstrip("0") or "0") + letter.lower()])
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
    is several times faster than a case-insensitive scan. A query with a proximity
    clause gets a `NearPattern`, which marks that clause's words only where they stand
    near each other."""
    clauses = [c for g in parsed.groups for c in g]
    regexes = [r for c in clauses for r in clause_regexes(c)]
    if not regexes:
        return None
    base = _alternation(regexes, flags)
    near = [(tuple(c.words), c.slop) for c in clauses
            if c.kind == "near" and c.field == "body" and not c.negated]
    if not near:
        return base
    others = [r for c in clauses if c.kind != "near" for r in clause_regexes(c)]
    free = _alternation(others, flags) if others else None
    return NearPattern(base, tuple(dict.fromkeys(near)), free)


def _alternation(regexes: list[str], flags) -> re.Pattern:
    # Longest first, so a phrase wins over a word it contains.
    regexes = sorted(set(regexes), key=len, reverse=True)
    # No (?:...) around the branches (none holds a top-level |): re optimises a bare
    # alternation of literals, and wrapping each branch makes a scan ten times slower.
    return re.compile("|".join(regexes), flags)


_TOKEN = re.compile(WORD_PATTERN.replace("(", "(?:"))
NODE_BREAK = "\x00"  # where a text ends in marked-up text: no pair reaches across it


class NearPattern:
    """A highlight pattern for a query with proximity clauses ("stock option"~5): it
    finds what `base` (every word of the query) finds, except a proximity clause's word
    that does not stand within its slop of the clause's other words. Used where a
    compiled pattern is (`search()`, `finditer()`, `flags`, `pattern`), so snippets
    and the document page mark the words of qualifying pairs, not every occurrence.
    Text holding NODE_BREAK is several texts: no pair is looked for across it.

    Distances are counted in words, as the engines count them (a run of spaces is no
    distance). Each text is read once: the clause words' occurrences are found by one
    regex scan, numbered by the words between them, and decided together (whether the
    text holds a span of the clause: `_clause_found`), so the work grows with the text,
    not with the number of occurrences times the slop."""

    def __init__(self, base: re.Pattern, near: tuple, free: re.Pattern | None):
        self.base = base
        self.near = near  # ((words, slop), ...)
        self.near_words = {w for terms, _ in near for w in terms}
        self.free = free  # the other clauses' pattern: their words always count
        self.flags = base.flags
        # The clause words alone, each a whole token (as the index tokenizes).
        self.occurrence = re.compile(
            "|".join(_starting(w) + _END for w in sorted(self.near_words, key=len,
                                                          reverse=True)), base.flags)
        # What identifies it (cache keys): the regex, and the clauses.
        self.pattern = f"{base.pattern}\x00near:{near!r}"
        # How many words away a word can be and still decide whether a clause word
        # qualifies: a span's reach.
        self.reach = max((slop * (len(terms) - 1) for terms, slop in near), default=0)
        # Whether a word's qualifying is decided by the words within its reach alone:
        # for pairs it is (a pair is a span); with three or more words, by whether the
        # whole text holds a span too.
        self.local = all(len(terms) == 2 for terms, _ in near)

    def __eq__(self, other):
        return isinstance(other, NearPattern) and (self.pattern, self.flags) == (
            other.pattern, other.flags)

    def __hash__(self):
        return hash((self.pattern, self.flags))

    def case_sensitive(self) -> NearPattern:
        """The same, for lower-cased text (as `re.compile` without IGNORECASE)."""
        def plain(p):
            return re.compile(p.pattern, p.flags & ~re.IGNORECASE) if p is not None else None
        return NearPattern(plain(self.base), self.near, plain(self.free))

    def finditer(self, string: str, pos: int = 0, endpos: int | None = None):
        end = len(string) if endpos is None else min(endpos, len(string))
        text_start = text_end = -1  # the text (between NODE_BREAKs) decided last
        qualified: set[int] = set()
        for match in self.base.finditer(string, pos, end):
            word = match.group(0).lower()
            if word not in self.near_words or (
                    self.free is not None and self.free.fullmatch(match.group(0))):
                yield match  # a phrase, a prefix, a word of another clause
                continue
            start = match.start()
            if not text_start <= start < text_end:
                text_start = string.rfind(NODE_BREAK, 0 if text_end < 0 else text_end,
                                          start) + 1
                text_end = string.find(NODE_BREAK, start, end)
                text_end = end if text_end < 0 else text_end
                qualified = self._qualifying(string, text_start, text_end)
            if start in qualified:
                yield match

    def search(self, string: str, pos: int = 0, endpos: int | None = None):
        return next(self.finditer(string, pos, endpos), None)

    def _qualifying(self, string: str, start: int, end: int) -> set[int]:
        """The offsets of the clause words in string[start:end] that stand near the
        clause's other words: when the text holds a span of the clause (as the engines
        decide), every word with each other word of the clause within the reach of a
        span (slop x (words - 1) words; for two words the slop: exactly the pairs)."""
        occurrences = []  # (word number, offset, word)
        by_word: dict[str, list[int]] = {}
        number, last = 0, start
        # Only distances up to a span's reach decide whether a span is there, and
        # `_clause_found` looks at windows 3 x reach wide: the words between two
        # occurrences are counted up to one more than a window (a longer gap decides the
        # same as any longer one, and never shrinks into a window, where it could add
        # occurrences to the window's `_GATE_POSITIONS` count), so a long text costs its
        # occurrences, not all its words.
        beyond = 3 * self.reach + 1
        for match in self.occurrence.finditer(string, start, end):
            offset = match.start()
            number += words_between(string, last, offset, beyond)
            word = match.group(0).lower()
            by_word.setdefault(word, []).append(number)
            occurrences.append((number, offset, word))
            number += 1
            last = match.end()
        qualified: set[int] = set()
        for terms, slop in self.near:
            lists = [by_word.get(t) for t in terms]
            if not all(lists):
                continue
            # The words kept are those whose clause's other words all stand within a
            # span's reach: every word of a matching span, and never a lone one; for two
            # words, exactly the engines' pairs.
            reach = slop * (len(terms) - 1)
            if not _clause_found(lists, slop, reach):
                continue
            distinct = set(terms)
            near_all = _covered(number, [by_word[t] for t in distinct], reach)
            for at, offset, word in occurrences:
                if word not in distinct or near_all[at] != len(distinct):
                    continue
                if terms.count(word) > 1 and not _another_within(by_word[word], at, reach):
                    continue
                qualified.add(offset)
        return qualified


# Positions of one window spans_near may be run on: past this a window in which no span
# was found directly is taken as holding one (a bound on the work, never reached by the
# filings tried: spans_near builds every partial span, and a window of a dense text of
# 1,000 positions of a 17-word clause ~100 takes 0.7 s).
_GATE_POSITIONS = 4000


def words_between(string: str, start: int, end: int, limit: int | None = None) -> int:
    """How many words (as the index tokenizes) string[start:end] holds; with `limit`,
    counted up to `limit` at most (a long stretch is then not read to its end)."""
    if limit is None:
        return len(_TOKEN.findall(string, start, end))
    return sum(1 for _ in itertools.islice(_TOKEN.finditer(string, start, end), limit))


def _clause_found(lists: list[list[int]], slop: int, reach: int) -> bool:
    """Whether the text holds a span of the clause, as the engines decide (spans_near),
    looked for around the rarest word and stopping at the first found. A span is at most
    `reach` words wide, so one holding the rarest word's occurrence q' lies in
    [q' - reach, q' + reach]: one window [q - reach, q + 2 reach] serves every q' up to
    q + reach, and the windows hold each position at most three times. In each, a span
    built word by word from the nearest occurrences is looked for first (it is found at
    once in a dense text, where spans_near is slowest); spans_near decides the rest."""
    if len(lists) == 2:
        return spans_near(lists, slop, False, 1)  # linear for two words
    rarest = min(lists, key=len)
    served = -1
    for q in rarest:
        if q <= served:
            continue
        served = q + reach
        low, high = q - reach, q + 2 * reach
        window = [p[bisect.bisect_left(p, low):bisect.bisect_right(p, high)] for p in lists]
        if not all(window):
            continue
        if _nearest_chain(window, slop):
            return True
        if sum(map(len, window)) > _GATE_POSITIONS or spans_near(window, slop, False, 1):
            return True
    return False


def _nearest_chain(lists: list[list[int]], slop: int) -> bool:
    """A span of spans_near's kind (each next word outside the span so far, within `slop`
    of it), built from each occurrence of the first word by taking the nearest
    occurrence of each next word: True is a span found; False proves nothing."""
    for first in lists[0]:
        start = end = first
        for positions in lists[1:]:
            i = bisect.bisect_left(positions, start)
            before = start - positions[i - 1] if i else slop + 1
            j = bisect.bisect_right(positions, end)
            after = positions[j] - end if j < len(positions) else slop + 1
            if min(before, after) > slop:
                break
            if before <= after:
                start -= before
            else:
                end += after
        else:
            return True
    return False


def _covered(size: int, position_lists: list[list[int]], reach: int) -> list[int]:
    """For each word number below `size`, how many of the lists hold a position within
    `reach` of it: one pass over merged intervals, summed in C."""
    change = [0] * (size + 1)
    for positions in position_lists:
        low = high = None
        for p in positions:
            if high is not None and p - reach <= high + 1:
                high = p + reach
                continue
            if high is not None:
                change[low] += 1
                change[min(high, size - 1) + 1] -= 1
            low, high = max(0, p - reach), p + reach
        if high is not None:
            change[low] += 1
            change[min(high, size - 1) + 1] -= 1
    return list(itertools.accumulate(change))


def _another_within(positions: list[int], at: int, reach: int) -> bool:
    i = bisect.bisect_left(positions, at)
    return (i > 0 and at - positions[i - 1] <= reach) or (
        i + 1 < len(positions) and positions[i + 1] - at <= reach)
