"""The Verify page and GET /api/v1/alliances/{id}/chain through HTTP; the chain head in every export.

Tampering is raw SQL on a connection of its own, as in tests/integration/test_chain.py.
"""

from __future__ import annotations

import io
import re

import pytest
from lxml import html
from openpyxl import load_workbook

from ledger.chain import head_of
from ledger.domain.chain import PROBLEMS_SHOWN, fingerprint
from tests.builders import record
from tests.e2e.api_support import Api, error_fields, make_tokens
from tests.integration.test_chain import booked, sql  # noqa: F401 - the booked case, as a fixture


def page(client, case, query: str = ""):
    response = client.get(f"/a/{case.alliance.id}/verify{query}")
    return response, html.fromstring(response.get_data(as_text=True))


def head_now(session, case) -> str:
    session.expire_all()
    return fingerprint(head_of(session, case.alliance.id))


@pytest.mark.parametrize("who", ["alpha", "accountant", "steering", "coordinator"])
def test_every_member_sees_the_chain_intact_with_its_head(client, auth, session, case, booked, who):  # noqa: F811
    auth.login(who)
    response, doc = page(client, case)
    assert response.status_code == 200
    assert doc.xpath('//nav[@id="alliance-nav"]//a[@aria-current="page"]')[0].text == "Verify"
    verdict = doc.get_element_by_id("verdict")
    assert verdict.get("data-intact") == "true"
    assert "7 records chained" in " ".join(verdict.text_content().split())
    assert doc.get_element_by_id("chain-head").text == head_now(session, case)
    assert doc.get_element_by_id("totals-check").get("data-agree") == "true"


def test_a_tampered_entry_is_named_on_the_page(client, auth, case, booked, database_url):  # noqa: F811
    sql(database_url, "UPDATE entries SET amount = 1 WHERE id = :id", "DELETE FROM activity WHERE entry_id = :gone",
        "DELETE FROM entries WHERE id = :gone", id=booked["waste"], gone=booked["reversal"])
    auth.login("accountant")
    response, doc = page(client, case)
    assert response.status_code == 200
    verdict = doc.get_element_by_id("verdict")
    assert verdict.get("data-intact") == "false"
    text = " ".join(verdict.text_content().split())
    assert f"entry #{booked['waste']} (position 4)" in text
    assert "changed after it was recorded" in text
    rows = [[td.text_content().strip() for td in tr.xpath("./td")]
            for tr in doc.xpath('//table[@aria-label="Problems found"]/tbody/tr')]
    assert rows == [
        ["4", f"entry #{booked['waste']}", "changed", rows[0][3]],
        ["7", f"entry #{booked['reversal']}", "missing", rows[1][3]],
    ]
    # The deleted reversal is still in the running totals the balances read: the page says so and how to mend it.
    totals_check = doc.get_element_by_id("totals-check")
    assert totals_check.get("data-agree") == "false"
    assert f"flask ledger rebuild-totals {case.alliance.id}" in totals_check.text_content()


def test_an_earlier_head_is_checked_and_a_bad_one_is_a_field_message(client, auth, session, case,
                                                                      booked):  # noqa: F811
    earlier = head_now(session, case)
    from tests.builders import record

    record(session, case, "alpha", kind="cost", partner="Alpha", amount="2.00", category="production")
    session.commit()
    auth.login("beta")
    response, doc = page(client, case, f"?head={earlier}")
    assert response.status_code == 200
    check = doc.get_element_by_id("head-check")
    assert check.get("data-found") == "true"
    assert "1 record chained since" in " ".join(check.text_content().split())

    response, doc = page(client, case, "?head=7-0000000000000000")
    assert doc.get_element_by_id("head-check").get("data-found") == "false"

    response, doc = page(client, case, "?head=not+a+head")
    assert response.status_code == 400
    assert "Paste the chain head" in doc.get_element_by_id("head-error").text_content()
    assert doc.xpath('//input[@id="head"]')[0].get("aria-invalid") == "true"


def test_an_outsider_gets_404_and_anonymous_the_login(client, auth, case):
    assert client.get(f"/a/{case.alliance.id}/verify").status_code == 302
    auth.login("outsider")
    assert client.get(f"/a/{case.alliance.id}/verify").status_code == 404


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


def test_the_api_reports_the_chain_as_documented(api, session, case, booked, database_url):  # noqa: F811
    url = f"/alliances/{case.alliance.id}/chain"
    body = api.get(url, who="accountant").get_json()
    assert body["intact"] is True
    assert body["problems"] == []
    assert body["head_check"] is None
    assert body["count"] == 7
    assert body["fingerprint"] == head_now(session, case)
    assert body["head"]["position"] == 7
    assert body["head"]["record_type"] == "entry"

    checked = api.get(url, who="alpha", query={"head": body["fingerprint"]}).get_json()["head_check"]
    assert checked == {"fingerprint": body["fingerprint"], "found": True, "position": 7, "added_since": 0,
                       "last_position": 7, "code": "found", "message": checked["message"]}

    bad = api.get(url, who="alpha", query={"head": "seven"})
    assert bad.status_code == 400
    assert "head" in error_fields(bad)

    sql(database_url, "UPDATE entries SET partner_id = :gamma WHERE id = :id", gamma=case.pid("Gamma"),
        id=booked["sales"])
    broken = api.get(url, who="steering").get_json()
    assert broken["intact"] is False
    assert broken["problems"] == [{"kind": "changed", "record_type": "entry", "record_id": booked["sales"],
                                   "position": 6, "message": broken["problems"][0]["message"]}]
    assert api.get(url, who="outsider").status_code == 404


def test_a_chain_rewritten_wholesale_lists_its_first_problems_and_counts_them_all(client, auth, api, session, case,
                                                                                 database_url):
    """One problem per record, for every record: the page and the API list the first hundred, not a
    million (a 170 MB page), and say how many there are in all."""
    for n in range(PROBLEMS_SHOWN + 5):
        record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount=f"{n + 1}")
    session.commit()
    sql(database_url, "UPDATE entries SET description = 'rewritten' WHERE alliance_id = :a", a=case.alliance.id)
    auth.login("accountant")
    response, doc = page(client, case)
    assert response.status_code == 200
    assert doc.get_element_by_id("verdict").get("data-intact") == "false"
    assert len(doc.xpath('//table[@aria-label="Problems found"]/tbody/tr')) == PROBLEMS_SHOWN
    assert "And 5 more problems (105 in all)" in " ".join(doc.get_element_by_id("problems-more").text_content().split())
    body = api.get(f"/alliances/{case.alliance.id}/chain", who="accountant").get_json()
    assert (len(body["problems"]), body["problem_count"]) == (PROBLEMS_SHOWN, PROBLEMS_SHOWN + 5)
    assert {p["kind"] for p in body["problems"]} == {"changed"}


def test_every_export_names_the_chain_head(client, auth, session, case, booked):  # noqa: F811
    head = head_now(session, case)
    auth.login("accountant")
    xlsx = client.get(f"/a/{case.alliance.id}/export?period=term&format=xlsx")
    assert xlsx.status_code == 200, xlsx.status_code
    assert xlsx.headers["X-Chain-Head"] == head
    assert f"_chain-{head}.xlsx" in xlsx.headers["Content-Disposition"]
    summary = load_workbook(io.BytesIO(xlsx.data))["Summary"]
    rows = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row and row[0]}
    assert rows["Chain head"] == head

    csv = client.get(f"/a/{case.alliance.id}/export?period=term&format=csv")
    assert csv.status_code == 200
    assert re.search(rf"_chain-{re.escape(head)}\.csv", csv.headers["Content-Disposition"])
    assert csv.headers["X-Chain-Head"] == head


def walked_api(api, case, limit: int) -> list[dict]:
    url = f"/alliances/{case.alliance.id}/chain"
    problems, start = [], 1
    while start is not None:
        segment = api.get(f"{url}/segment", who="alpha", query={"from": start, "limit": limit}).get_json()
        assert segment["start"] == start
        problems += segment["problems"]
        start = segment["next_start"]
    return problems + api.get(f"{url}/unlinked", who="alpha").get_json()["problems"]


def test_a_long_chain_is_checked_a_segment_a_request_through_the_api(api, session, case, booked,  # noqa: F811
                                                                      database_url):
    """What GET .../chain finds in one request, the segments and the unlinked step find between them."""
    for limit in (1, 3, 20_000):
        assert walked_api(api, case, limit) == []
    sql(database_url, "UPDATE entries SET amount = amount + 1 WHERE id = :id", id=booked["waste"])
    sql(database_url, "DELETE FROM chain_links WHERE alliance_id = :a AND record_id = :id AND record_type = 'entry'",
        a=case.alliance.id, id=booked["sales"])
    whole = api.get(f"/alliances/{case.alliance.id}/chain", who="alpha").get_json()
    assert [p["kind"] for p in whole["problems"]] == ["changed", "broken", "unlinked"]
    for limit in (1, 2, 3, 20_000):
        assert walked_api(api, case, limit) == whole["problems"], limit
    for query in ({"from": "0"}, {"from": "x"}, {"from": "9" * 5000}, {"limit": "20001"}, {"limit": "-1"}):
        bad = api.get(f"/alliances/{case.alliance.id}/chain/segment", who="alpha", query=query)
        assert bad.status_code == 400, query
        assert set(error_fields(bad)) == set(query), query


def test_the_page_of_a_long_chain_walks_it_from_the_browser(app, client, auth, session, case, booked,  # noqa: F811
                                                            database_url):
    """Longer than a segment: the page comes back at once with the walk to do (verify.js), and the JSON it
    walks finds what the whole check finds; without JavaScript, all=1 asks for the whole check at once."""
    app.config["VERIFY_SEGMENT"] = 3
    auth.login("alpha")
    response, doc = page(client, case)
    assert response.status_code == 200
    assert doc.get_element_by_id("verdict").get("data-intact") == "pending"
    walk = doc.get_element_by_id("verify-walk")
    assert walk.get("data-count") == "7"
    assert doc.get_element_by_id("totals-check").get("data-agree") == "pending"
    assert doc.get_element_by_id("chain-head").text == head_now(session, case)
    assert doc.xpath('//script[contains(@src, "verify.js")]')
    assert doc.xpath('//noscript//a[contains(@href, "all=1")]')

    sql(database_url, "UPDATE entries SET description = 'edited' WHERE id = :id", id=booked["ads"])
    kinds, start, checked = [], 1, []
    while start is not None:
        segment = client.get(f"{walk.get('data-segment-url')}?from={start}").get_json()
        kinds += [(p["kind"], p["record_id"], p["record"]) for p in segment["problems"]]
        checked.append((segment["start"], segment["end"]))
        start = segment["next"]
    assert checked == [(1, 3), (4, 6), (7, 7)]
    rest = client.get(walk.get("data-rest-url")).get_json()
    assert (rest["problems"], rest["problem_count"], rest["totals_off"]) == ([], 0, [])
    assert kinds == [("changed", booked["ads"], f"entry #{booked['ads']}")]
    _, whole = page(client, case, "?all=1")
    assert whole.get_element_by_id("verdict").get("data-intact") == "false"
    for nonsense in ("zero", "9" * 5000):
        bad = client.get(f"{walk.get('data-segment-url')}?from={nonsense}")
        assert bad.status_code == 400
        assert set(bad.get_json()["error"]["fields"]) == {"from"}


def delete_newest_entry_and_its_link(database_url: str, case, ids: dict) -> None:
    """The newest record and its link gone: the chain alone still holds together, the totals do not."""
    sql(database_url, "DELETE FROM chain_links WHERE alliance_id = :a AND record_type = 'entry' AND record_id = :id",
        "DELETE FROM activity WHERE entry_id = :id", "DELETE FROM entries WHERE id = :id",
        a=case.alliance.id, id=ids["reversal"])


def test_a_deleted_newest_entry_gets_one_verdict_in_words_in_every_channel(
        app, client, auth, api, session, case, booked, database_url):  # noqa: F811
    """Issue 16, item 15: the page, its segmented walk, the API and the command line say the same, never
    "intact", naming the partner and the figure with money as money (no internal ids, no cents)."""
    delete_newest_entry_and_its_link(database_url, case, booked)
    auth.login("alpha")
    _, doc = page(client, case)
    banner = doc.get_element_by_id("verdict")
    assert banner.get("data-intact") == "false"
    words = " ".join(banner.text_content().split())
    assert "intact" not in words.lower()
    assert "The running totals no longer match the entries." in words
    assert "Alpha's cost entries" in words
    assert "EUR 99.99 less in the totals" in words
    assert "partner #" not in words
    assert "9999" not in words

    body = api.get(f"/alliances/{case.alliance.id}/chain", who="alpha").get_json()
    assert (body["intact"], body["state"]) == (False, "broken")
    assert " ".join(f"{body['headline']} {body['message']}".split()) == words
    assert [(g["partner"], g["partner_id"], g["kind"], g["difference"]) for g in body["totals"]] == [
        ("Alpha", case.pid("Alpha"), "cost", "-99.99")]

    app.config["VERIFY_SEGMENT"] = 3
    _, walk_page = page(client, case)
    walk = walk_page.get_element_by_id("verify-walk")
    rest = client.get(f"{walk.get('data-rest-url')}?found=0").get_json()
    assert rest["verdict"]["state"] == "broken"
    assert " ".join(f"{rest['verdict']['headline']} {rest['verdict']['message']}".split()) == words

    result = app.test_cli_runner().invoke(args=["ledger", "verify", str(case.alliance.id)])
    assert result.exit_code == 1
    assert "intact" not in result.output.lower()
    assert words in " ".join(result.output.split())


def test_the_walk_names_the_first_problem_the_segments_found_as_the_whole_check_does(
        app, client, auth, case, booked, database_url):  # noqa: F811
    sql(database_url, "UPDATE entries SET amount = amount + 1 WHERE id = :id", id=booked["waste"])
    auth.login("alpha")
    _, whole = page(client, case)
    words = " ".join(whole.get_element_by_id("verdict").text_content().split())
    app.config["VERIFY_SEGMENT"] = 3
    _, doc = page(client, case)
    rest_url = doc.get_element_by_id("verify-walk").get("data-rest-url")
    rest = client.get(f"{rest_url}?found=1&first=4").get_json()
    assert " ".join(f"{rest['verdict']['headline']} {rest['verdict']['message']}".split()) == words
    assert client.get(f"{rest_url}?found=x").status_code == 400


def test_an_earlier_head_not_in_the_chain_is_never_intact(
        client, auth, api, session, case, booked, database_url):  # noqa: F811
    earlier = head_now(session, case)
    delete_newest_entry_and_its_link(database_url, case, booked)
    body = api.get(f"/alliances/{case.alliance.id}/chain", who="alpha", query={"head": earlier}).get_json()
    assert body["intact"] is False
    assert body["head_check"]["code"] == "cut_short"
    assert "the record chained last by then was deleted together with its link" in body["message"]
    auth.login("alpha")
    _, doc = page(client, case, f"?head={earlier}")
    assert doc.get_element_by_id("verdict").get("data-intact") == "false"
    assert doc.get_element_by_id("head-check").get("data-code") == "cut_short"
