"""Template helpers for filing pages: EDGAR's compact codes shown as people read them."""
import calendar

from django import template
from django.template.loader import select_template
from django.utils.html import format_html

from filings import locations

register = template.Library()

# The search app's form, once it provides one; a plain form to /search/ until then.
SEARCH_FORM_TEMPLATES = ["search/_search_form.html", "filings/_search_form.html"]


@register.simple_tag(takes_context=True)
def search_form(context, variant="header"):
    form = select_template(SEARCH_FORM_TEMPLATES)
    values = context.flatten()
    values["variant"] = variant
    return form.render(values, context.get("request"))


@register.filter
def fiscal_year_end(value):
    """EDGAR's MMDD ("1231") as "December 31"."""
    value = (value or "").strip()
    if len(value) == 4 and value.isdigit():
        month, day = int(value[:2]), int(value[2:])
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{calendar.month_name[month]} {day}"
    return value


@register.filter
def address_lines(address):
    """An address dict as display lines: streets, "City, ST 12345"."""
    if not address:
        return []
    lines = [address.get("street1", ""), address.get("street2", "")]
    state_zip = " ".join(p for p in (address.get("state", ""), address.get("zip", "")) if p)
    lines.append(", ".join(p for p in (address.get("city", ""), state_zip) if p))
    return [line for line in lines if line]


@register.filter
def location(code):
    """An EDGAR state or country code with its name on hover: `<abbr title="California">
    CA</abbr>`; a dash when empty, the code alone when EDGAR has no such code."""
    code = (code or "").strip()
    if not code:
        return "—"
    label = locations.name(code)
    if label == code.upper():
        return code
    return format_html('<abbr title="{}">{}</abbr>', label, code)


@register.filter
def figure(value):
    """A stored figure (Decimal) as the forms show it: 4,424 and 402.841, not
    4424.000000; empty for none."""
    if value is None:
        return ""
    value = value.normalize()
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,f}"


@register.filter
def tickers_for(tickers, cik):
    """A company's tickers from {cik: [tickers]} (`TickerQuerySet.of_ciks`), joined: "GOOGL,
    GOOG"; empty when it has none."""
    try:
        return ", ".join((tickers or {}).get(int(cik), []))
    except (TypeError, ValueError):
        return ""
