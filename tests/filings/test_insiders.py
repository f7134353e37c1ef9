"""Insider transactions pages: per company as issuer and as reporting owner, sorting,
filters by code and date, CSV, links to the filings; linked from the company page."""
import csv
import io

import pytest

from tests.conftest import corpus_file

TESLA = "0000950170-25-003585"  # Form 4: 25 rows of Kathleen Wilson-Thompson's
LAM = "0000707549-25-000004"  # Form 4/A: two gifts, 2024-11-04
TESLA_CIK, OWNER_CIK, LAM_CIK = 1318605, 1331680, 707549


@pytest.fixture
def insiders(ingest_paths):
    summary = ingest_paths(corpus_file(TESLA + ".txt"), corpus_file(LAM + ".txt"))
    assert summary.counts["new"] == 2


def _rows(response):
    return response.context["page"].object_list


def test_issuer_page_lists_its_transactions_newest_first_with_links(client, insiders):
    response = client.get(f"/companies/{TESLA_CIK}/insiders/")
    assert response.status_code == 200
    rows = _rows(response)
    assert len(rows) == 25 and response.context["total"] == 25
    assert {r.issuer_cik for r in rows} == {TESLA_CIK}
    html = response.content.decode()
    assert f'href="/filings/{TESLA}/1/"' in html
    assert f'href="/companies/{OWNER_CIK}/insiders/as-owner/"' in html
    assert "402.841" in html and "100,000" in html  # figures as the form gives them


def test_owner_page_lists_what_the_owner_reported(client, insiders):
    response = client.get(f"/companies/{OWNER_CIK}/insiders/as-owner/")
    assert response.status_code == 200
    assert len(_rows(response)) == 25
    assert f'href="/companies/{TESLA_CIK}/insiders/"' in response.content.decode()
    # The owner reported nothing as an issuer; the issuer nothing as an owner.
    assert len(_rows(client.get(f"/companies/{OWNER_CIK}/insiders/"))) == 0
    assert len(_rows(client.get(f"/companies/{TESLA_CIK}/insiders/as-owner/"))) == 0


def test_company_page_links_its_insider_pages(client, insiders):
    issuer = client.get(f"/companies/{TESLA_CIK}/").content.decode()
    assert f'href="/companies/{TESLA_CIK}/insiders/"' in issuer
    assert "/insiders/as-owner/" not in issuer
    owner = client.get(f"/companies/{OWNER_CIK}/").content.decode()
    assert f'href="/companies/{OWNER_CIK}/insiders/as-owner/"' in owner


@pytest.mark.parametrize("sort, key, reverse", [
    ("shares", lambda r: r.shares, False),
    ("-shares", lambda r: r.shares, True),
    ("price", lambda r: r.price, False),
    ("-owned_after", lambda r: r.owned_after, True),
])
def test_sorting_by_a_column(client, insiders, sort, key, reverse):
    rows = _rows(client.get(f"/companies/{TESLA_CIK}/insiders/", {"sort": sort}))
    values = [key(r) for r in rows]
    assert values == sorted(values, reverse=reverse) and len(set(values)) > 1


def test_sort_links_say_the_order_and_turn_it_around(client, insiders):
    response = client.get(f"/companies/{TESLA_CIK}/insiders/", {"sort": "price"})
    links = response.context["sort_links"]
    assert links["price"]["state"] == "ascending" and "sort=-price" in links["price"]["url"]
    assert 'aria-sort="ascending"' in response.content.decode()
    # An unknown sort falls back to the newest first.
    assert client.get(f"/companies/{TESLA_CIK}/insiders/",
                      {"sort": "id; drop"}).context["sort"] == "-date"


def test_filter_by_codes(client, insiders):
    url = f"/companies/{TESLA_CIK}/insiders/"
    assert {r.code for r in _rows(client.get(url, {"code": "M"}))} == {"M"}
    assert len(_rows(client.get(url, {"code": "M"}))) == 2
    assert len(_rows(client.get(url, {"code": "m,s"}))) == 25
    assert len(_rows(client.get(url, {"code": "P"}))) == 0
    counts = {c["code"]: c["n"] for c in client.get(url).context["codes_present"]}
    assert counts == {"M": 2, "S": 23}


def test_links_repeat_the_pages_own_parameters_only(client, insiders):
    # A URL with 5,000 characters of utm_source and 900 stray values: every sort link
    # and the CSV link copied them all (936 KB for a 25 KB page).
    plain = client.get(f"/companies/{TESLA_CIK}/insiders/")
    response = client.get(f"/companies/{TESLA_CIK}/insiders/", {
        "utm_source": "u" * 5000, "x": ["v" * 100] * 900, "code": "s", "from": "2025-01-01",
        "sort": "price"})
    html = response.content.decode()
    assert "u" * 5000 not in html and "v" * 100 not in html
    assert len(html) < 2 * len(plain.content)
    assert response.context["csv_url"].endswith("?code=S&from=2025-01-01&sort=price&format=csv")
    assert response.context["sort_links"]["shares"]["url"] == \
        "?code=S&from=2025-01-01&sort=-shares"
    assert len(_rows(client.get(response.context["csv_url"].replace("format=csv", "")))) \
        == len(_rows(response))


def test_filter_by_dates(client, insiders):
    url = f"/companies/{LAM_CIK}/insiders/"
    assert len(_rows(client.get(url, {"from": "2024-11-04", "to": "2024-11-04"}))) == 2
    assert len(_rows(client.get(url, {"from": "2024-11-05"}))) == 0
    assert len(_rows(client.get(url, {"to": "2024-11-03"}))) == 0
    bad = client.get(url, {"from": "yesterday"})
    assert len(_rows(bad)) == 2 and "must be a date" in bad.content.decode()


def test_csv_has_every_filtered_row_with_its_filing(client, insiders):
    response = client.get(f"/companies/{TESLA_CIK}/insiders/",
                          {"format": "csv", "code": "S", "sort": "price"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 23 and {r["code"] for r in rows} == {"S"}
    prices = [float(r["price"]) for r in rows]
    assert prices == sorted(prices)
    first = rows[0]
    assert first["price"] == "402.841" and first["shares"] == "4424"
    assert first["accession_number"] == TESLA and first["owner_cik"] == str(OWNER_CIK)
    assert first["url"].endswith(f"/filings/{TESLA}/1/")


def test_unknown_company_is_a_404_and_padded_cik_redirects(client, insiders):
    assert client.get("/companies/999999999/insiders/").status_code == 404
    response = client.get(f"/companies/000{TESLA_CIK}/insiders/?code=S")
    assert response.status_code == 301
    assert response["Location"] == f"/companies/{TESLA_CIK}/insiders/?code=S"


def test_an_owner_without_a_company_page_is_not_linked(client, insiders):
    from filings.models import InsiderTransaction

    InsiderTransaction.objects.filter(position=0, issuer_cik=TESLA_CIK).update(
        owner_cik=42, owner_name="Owner Named Only In The XML")
    html = client.get(f"/companies/{TESLA_CIK}/insiders/", {"sort": "-shares"}).content.decode()
    assert "Owner Named Only In The XML" in html
    assert "/companies/42/" not in html
    assert f'href="/companies/{OWNER_CIK}/insiders/as-owner/"' in html
