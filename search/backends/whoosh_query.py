"""The Whoosh engine's translation of a search: the query's AST (`search.query`) and the
filters (`search.filters.SearchRequest`) as one Whoosh query, of the kinds
`search.backends.whoosh_matching` runs a block at a time."""
from __future__ import annotations

from whoosh import query as wq
from whoosh.query import spans

from search.backends.base import company_ciks, ticker_ciks
from search.query import Clause, ParsedQuery


def clause_query(clause: Clause):
    if clause.field == "form":
        value = " ".join(clause.words).upper()
        if clause.kind == "prefix":
            return wq.Prefix("form", value)
        return wq.Term("form", value)
    if clause.field == "type":
        return doc_type_query(" ".join(clause.words))
    if clause.field == "cik":
        return wq.Term("cik", clause.words[0])
    if clause.field == "ticker":
        ciks = ticker_ciks(clause.words[0])
        return wq.Or([wq.Term("cik", c) for c in ciks]) if ciks else wq.NullQuery
    if clause.field == "file":  # the KEYWORD field keeps its values lower-cased
        return wq.Term("file_number", clause.words[0].lower())
    if clause.field == "section":
        return wq.Term("section", clause.words[0])
    if clause.section:
        clause = clause.in_section()
    name = clause.field if clause.field in ("company", "section_body") else "body"
    if clause.kind == "prefix":
        return wq.Prefix(name, clause.words[0])
    if clause.kind == "word":
        return wq.Term(name, clause.words[0])
    terms = [wq.Term(name, w) for w in clause.words]
    if clause.kind == "near" and len(terms) > 1:
        return spans.SpanNear2(terms, slop=clause.slop, ordered=False)
    if len(terms) == 1:
        return terms[0]
    return wq.Phrase(name, clause.words)


def doc_type_query(value: str):
    """`EX-10` matches EX-10 and EX-10.1, EX-10.2...; never EX-100."""
    value = value.strip().upper()
    return wq.Or([wq.Term("doc_type", value), wq.Prefix("doc_type", value + ".")])


def parsed_query(parsed: ParsedQuery):
    """The Whoosh query of the words, or None for an empty query."""
    if parsed.is_empty:
        return None
    positive = [
        clause_query(g[0]) if len(g) == 1 else wq.Or([clause_query(c) for c in g])
        for g in parsed.groups
    ]
    query = (positive[0] if len(positive) == 1 else wq.And(positive)) if positive else None
    if parsed.excluded:
        excluded = wq.Or([clause_query(c) for c in parsed.excluded])
        query = wq.AndNot(query if query is not None else wq.Every(), excluded)
    return query


def filter_queries(req, messages: list[str]) -> list:
    """Whoosh queries for the request's filters (ANDed with the words)."""
    queries = []
    forms, _excluded = req.form_filter()  # the excluded: whoosh_query()
    if forms is not None:
        queries.append(wq.Or([wq.Term("form", f) for f in forms]) if forms else wq.NullQuery)
    if req.doc_types:
        queries.append(wq.Or([doc_type_query(d) for d in req.doc_types]))
    if req.company:
        ciks = company_ciks(req.company, messages)
        queries.append(wq.Or([wq.Term("cik", c) for c in ciks]) if ciks else wq.NullQuery)
    if req.filed_from or req.filed_to:
        start = req.filed_from.isoformat() if req.filed_from else None
        end = req.filed_to.isoformat() if req.filed_to else None
        queries.append(wq.TermRange("filed", start, end))
    if req.ingested_after or req.ingested_to:
        queries.append(wq.TermRange("ingested", req.ingested_after or None,
                                    req.ingested_to or None, startexcl=True))
    for name, values in (("cik", req.ciks), ("year", req.years), ("sic", req.sic),
                         ("state_inc", req.state_inc), ("state_loc", req.state_loc),
                         ("item", req.items), ("section", req.sections)):
        if values:
            queries.append(wq.Or([wq.Term(name, v) for v in values]))
    if req.file_numbers:
        queries.append(wq.Or([wq.Term("file_number", v.lower()) for v in req.file_numbers]))
    return queries


def whoosh_query(req, parsed: ParsedQuery, messages: list[str]):
    """The request's words and filters as one Whoosh query."""
    parts = [q for q in [parsed_query(parsed)] if q is not None]
    parts += filter_queries(req, messages)
    query = wq.Every() if not parts else parts[0] if len(parts) == 1 else wq.And(parts)
    _allowed, excluded_forms = req.form_filter()
    if excluded_forms:  # a category of every form but some (AndNot: matched block-wise)
        query = wq.AndNot(query, wq.Or([wq.Term("form", f) for f in excluded_forms]))
    return query
