"""Tickers and file numbers in searches, on every engine: `ticker:` (read as CIKs through
filings.Ticker), the company box and its suggestions by ticker, `file:` and the
file_number filter, and the file numbers linked from results and filing pages."""
import pytest
from django.core.management import call_command

from tests.conftest import FIXTURES

APPLE = {"0000320193-97-000011", "0000320193-97-000014", "0000320193-99-000002",
         "0000912057-00-002128", "0000320193-24-000061"}
APPLE_FILE = "000-10030"  # Apple's 10-Qs and the 8-K; its CORRESP letter has none
ISABELLA_FORM4 = "0000842517-24-000086"  # issuer ISBA; reporting owner's file 000-18415
LOEWS_13F = "0000060086-01-500013"  # 028-00217


@pytest.fixture
def tickers(db):
    call_command("load_tickers", str(FIXTURES / "tickers" / "company_tickers_exchange.json"),
                 verbosity=0)


def accessions(data):
    return {r["accession_number"] for r in data["results"]}


def test_ticker_field_finds_the_company_filings(api, tickers):
    data = api(q="ticker:AAPL")
    assert accessions(data) == APPLE and data["total"] == len(APPLE)
    assert accessions(api(q="ticker:aapl form:10-Q")) == APPLE - {
        "0000912057-00-002128", "0000320193-24-000061"}
    # The issuer of a Form 4 is a party of it: its ticker finds the report.
    assert accessions(api(q="ticker:ISBA")) == {ISABELLA_FORM4}
    assert accessions(api(q="ticker:(ISBA OR L)")) == {ISABELLA_FORM4, LOEWS_13F}
    assert APPLE.isdisjoint(accessions(api(q="-ticker:AAPL")))
    assert accessions(api(q="-ticker:AAPL")) == accessions(api(q="-cik:320193"))


def test_unknown_ticker_matches_nothing_and_says_so(api, tickers, client):
    data = api(q="ticker:ZZZZ")
    assert data["total"] == 0
    page = client.get("/search/", {"q": "ticker:ZZZZ"}).content.decode()
    assert "No company here has the ticker ZZZZ" in page


def test_company_box_takes_a_ticker(api, tickers, client):
    assert accessions(api(company="AAPL")) == APPLE
    assert accessions(api(company="aapl")) == APPLE
    suggestions = client.get("/api/companies", {"q": "AAPL"}).json()["results"]
    assert suggestions[0]["cik"] == 320193 and suggestions[0]["tickers"] == ["AAPL"]


def test_file_field_and_filter_find_the_filings_under_a_file_number(api):
    apple_filed = APPLE - {"0000320193-24-000061"}
    assert accessions(api(q=f"file:{APPLE_FILE}")) == apple_filed
    assert accessions(api(file_number=APPLE_FILE)) == apple_filed
    both = api(file_number=f"{APPLE_FILE},028-00217")
    assert accessions(both) == apple_filed | {LOEWS_13F}
    # A party's file number counts: the reporting owner's on the Form 4.
    assert accessions(api(q="file:000-18415")) == {ISABELLA_FORM4}
    assert accessions(api(q=f"file:{APPLE_FILE} form:10-Q")) == apple_filed - {
        "0000912057-00-002128"}
    assert apple_filed.isdisjoint(accessions(api(q=f"-file:{APPLE_FILE}")))
    assert api(q="file:999-99999")["total"] == 0


def test_bad_file_number_is_ignored_with_a_message(client, corpus):
    response = client.get("/search/", {"file_number": "no such; thing", "q": "revenue"})
    assert response.status_code == 200
    assert "“File number”: 'no such; thing' was ignored." in response.context["results"].messages


def test_results_show_tickers_and_link_file_numbers(client, corpus, tickers):
    html = client.get("/search/", {"q": "ticker:AAPL"}).content.decode()
    assert '<span class="ticker">AAPL</span>' in html
    assert f'href="/search/?file_number={APPLE_FILE}"' in html
    chip = client.get("/search/", {"file_number": APPLE_FILE}).content.decode()
    assert "File number" in chip and APPLE_FILE in chip


def test_filing_sidebar_links_its_file_number(client, corpus):
    html = client.get("/filings/0000320193-97-000011/").content.decode()
    assert f'href="/search/?file_number={APPLE_FILE}"' in html


def test_company_page_shows_its_tickers(client, corpus, tickers):
    html = client.get("/companies/320193/").content.decode()
    assert "AAPL" in html and "Nasdaq" in html
    assert "AAPL" not in client.get("/companies/796343/").content.decode()  # ADBE's


def test_file_field_and_file_addresses():
    from search.query import parse

    [[clause]] = parse("file:000-10030").groups
    assert (clause.field, clause.words) == ("file", ["000-10030"])
    [[clause]] = parse('ticker:"brk-b"').groups
    assert (clause.field, clause.words) == ("ticker", ["BRK-B"])
    # A file:// address stays words, silently, as before file: was a field.
    parsed = parse("file:///etc/passwd")
    assert {c.field for g in parsed.groups for c in g} == {"body"}
    assert not parsed.messages


@pytest.mark.django_db
def test_a_file_number_with_tabs_in_a_crafted_header_is_one_word_on_every_engine(
        client, ingest_paths, tmp_path, search_backend):
    # Whoosh's KEYWORD field split "000-1<tab>2933<vt>77" at the tab, PostgreSQL's file
    # number column only at spaces: file:000-1 found the filing on one engine only.
    source = FIXTURES / "submissions" / "0000707549-25-000004.txt"
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes().replace(b"SEC FILE NUMBER:\t000-12933",
                                                 b"SEC FILE NUMBER:\t000-1\t2933\x0b77"))
    assert ingest_paths(path).failed == 0

    def found(**params):
        return accessions(client.get("/api/search", params).json())

    lam = {"0000707549-25-000004"}
    assert found(q="file:000-1293377") == lam
    assert found(file_number="000-1293377") == lam
    assert found(q="file:000-1") == found(q="file:2933") == found(file_number="000-1") == set()
