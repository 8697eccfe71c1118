"""The indicators page and API: charts with their tables, the as_of filter, access, and the documented JSON."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree, html

from ledger.models import Alliance
from tests.e2e.api_support import Api, error_fields, make_tokens
from tests.integration.test_indicators import booked  # noqa: F401 - the hand-computed case, as a fixture

SVG = "{http://www.w3.org/2000/svg}"


def page_of(client, case, query: str = ""):
    response = client.get(f"/a/{case.alliance.id}/indicators{query}")
    return response, html.fromstring(response.get_data(as_text=True))


def cells(doc, indicator: str) -> dict[str, list[str]]:
    table = doc.xpath(f'//table[@data-indicator="{indicator}"]')[0]
    return {row.xpath("./th")[0].text_content().strip(): [td.text_content().strip() for td in row.xpath("./td")]
            for row in table.xpath("./tbody/tr")}


def test_a_steering_member_reads_every_indicator_as_chart_and_table(client, auth, booked):  # noqa: F811
    auth.login("steering")
    response, doc = page_of(client, booked, "?as_of=2020-07-01")
    assert response.status_code == 200
    assert doc.xpath('//nav[@id="alliance-nav"]//a[@aria-current="page"]')[0].text == "Indicators"
    region = doc.xpath('//*[@data-live-region="indicators"]')
    assert len(region) == 1
    svgs = region[0].xpath('.//*[local-name()="svg"]')
    assert len(svgs) == 4  # shares, HHI, diversity, net over time
    for svg in svgs:
        assert svg.get("role") == "img"
        etree.fromstring(etree.tostring(svg))  # each chart is well-formed XML on its own
    assert cells(doc, "shares") == {
        "Alpha": ["€6,000.00", "60.0%", "50.0%", "+10.0%"],
        "Beta": ["€2,000.00", "20.0%", "50.0%", "-30.0%"],
        "Gamma": ["€2,000.00", "20.0%", "0.0%", "+20.0%"],
        "Omega": ["€0.00", "0.0%", "0.0%", "0.0%"],
    }
    assert cells(doc, "hhi")["Herfindahl index (HHI)"] == ["0.44"]
    assert cells(doc, "diversity")["Partner types present"] == ["2 of 7"]
    assert cells(doc, "diversity")["Types"] == ["customer, supplier"]
    net = cells(doc, "net")
    assert list(net) == ["2020-04", "2020-05", "2020-06", "2020-07"]
    assert net["2020-05"] == ["+€1,500.00", "-€3,500.00", "+€2,000.00", "€0.00"]
    flag = doc.xpath('//*[@data-hhi-flag]')[0]
    assert flag.get("data-hhi-flag") == "ok"
    assert "0.44 is not above the alliance's threshold 0.50" in " ".join(flag.text_content().split())
    assert doc.xpath('//input[@name="as_of"]')[0].get("value") == "2020-07-01"


def test_the_flag_says_in_words_when_dependency_is_concentrated(client, auth, booked, session):  # noqa: F811
    alliance = session.get(Alliance, booked.alliance.id)
    alliance.hhi_threshold = Decimal("0.4")
    session.commit()
    auth.login("alpha")
    _, doc = page_of(client, booked, "?as_of=2020-07-01")
    flag = doc.xpath('//*[@data-hhi-flag="concentrated"]')[0]
    assert " ".join(flag.text_content().split()) == \
        "Dependency is concentrated: 0.44 is above the alliance's threshold 0.40."


def test_without_as_of_the_whole_term_counts(client, auth, booked):  # noqa: F811
    auth.login("accountant")
    response, doc = page_of(client, booked)
    assert response.status_code == 200
    assert cells(doc, "shares")["Beta"][:2] == ["€7,000.00", "46.7%"]  # the August cost is in


@pytest.mark.parametrize("bad", ["2020-13-01", "yesterday", "2020-02-30"])
def test_a_bad_as_of_is_a_message_at_the_filter(client, auth, booked, bad):  # noqa: F811
    auth.login("alpha")
    response, doc = page_of(client, booked, f"?as_of={bad}")
    assert response.status_code == 400
    assert "is not a date" in doc.xpath('//*[@id="as_of-error"]')[0].text_content()
    assert doc.xpath('//input[@name="as_of"]')[0].get("aria-invalid") == "true"
    assert "Showing the whole term instead." in response.get_data(as_text=True)


def test_an_outsider_gets_404_and_a_visitor_the_login(client, auth, case):
    assert client.get(f"/a/{case.alliance.id}/indicators").status_code in (302, 401)
    auth.login("outsider")
    assert client.get(f"/a/{case.alliance.id}/indicators").status_code == 404


def test_an_alliance_with_no_entries_renders_without_error(client, auth, case):
    auth.login("coordinator")
    response, doc = page_of(client, case, "?as_of=2020-04-15")
    assert response.status_code == 200
    assert doc.xpath('//*[@data-hhi-flag]')[0].get("data-hhi-flag") == "none"
    assert cells(doc, "net") == {"2020-04": ["€0.00"] * 4}


def test_the_summary_partial_shows_hhi_diversity_and_the_largest_drift(app, booked, session):  # noqa: F811
    from flask import render_template_string

    from ledger.indicators import balance_indicators

    ind = balance_indicators(session, booked.alliance, None)
    with app.test_request_context():
        text = render_template_string('{% include "alliance/_indicators_summary.html" %}', ind=ind)
    doc = html.fromstring(text)
    assert doc.get("data-live-region") == "indicators"
    flat = " ".join(doc.text_content().split())
    assert "Dependency (HHI) 0.40" in flat  # 0.3956 to two places
    assert "Not above the alliance's threshold 0.50." in flat
    assert "2 of 7 partner types" in flat
    # drifts: Alpha 0.4 - 0.5 = -0.1, Beta 0.4667 - 0.5 = -0.0333, Gamma +0.1333: Gamma's is the largest
    assert "+13.3% Gamma put in 13.3% of the value; its agreed share is 0.0%." in flat


@pytest.fixture
def api(app, client, session, booked) -> Api:  # noqa: F811
    return Api(app, client, make_tokens(session, booked))


def test_the_api_answers_the_documented_indicators(api, booked):  # noqa: F811
    a = booked.alliance.id
    response = api.get(f"/alliances/{a}/indicators", "omega", query={"as_of": "2020-07-01"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["hhi"], body["hhi_flagged"], body["diversity"], body["total_put_in"]) == ("0.44", False, "0.0816",
                                                                                          1000000)
    assert [p["drift"] for p in body["partners"]] == ["0.1", "-0.3", "0.2", "0"]
    assert api.get(f"/alliances/{a}/indicators", "omega").get_json()["as_of"] is None


def test_the_api_refuses_a_bad_as_of_and_hides_other_alliances(api, booked):  # noqa: F811
    a = booked.alliance.id
    response = api.get(f"/alliances/{a}/indicators", "alpha", query={"as_of": "01/07/2020"})
    assert response.status_code == 400
    assert "as_of" in error_fields(response)
    assert api.get(f"/alliances/{a}/indicators", "outsider").status_code == 404
    assert api.get(f"/alliances/{a}/indicators").status_code == 401
