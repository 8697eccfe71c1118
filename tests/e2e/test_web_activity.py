"""The activity feed, the balance page and the alert threshold, through the Flask client on both engines."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ledger.models import Activity, Alliance, Membership
from tests.builders import record


def seqs(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'<li data-seq="(\d+)"', page)]


class RegionScan(HTMLParser):
    """Which live regions a page has, and which tags appear inside them."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.inside: list[tuple[str, int]] = []  # (region name, depth at which it opened)
        self.regions: dict[str, set[str]] = {}

    def handle_starttag(self, tag, attrs) -> None:
        for name, _ in self.inside:
            self.regions[name].add(tag)
        region = dict(attrs).get("data-live-region")
        if tag in self.VOID:
            return
        self.depth += 1
        if region:
            self.regions.setdefault(region, set())
            self.inside.append((region, self.depth))

    def handle_endtag(self, tag) -> None:
        if tag in self.VOID:
            return
        if self.inside and self.inside[-1][1] == self.depth:
            self.inside.pop()
        self.depth -= 1


def regions_of(page: str) -> dict[str, set[str]]:
    scan = RegionScan()
    scan.feed(page)
    return scan.regions


def _entries(session, case, n: int) -> None:
    for i in range(n):
        record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount=f"{i + 1}00",
               description=f"cost {i}")
    session.commit()


def _threshold(session, case, who: str) -> int | None:
    session.rollback()
    return session.get(Membership, case.memberships[who].id).notify_above


def test_activity_feed_lists_newest_first_and_pages_by_event_number(app, client, auth, session, case):
    _entries(session, case, 5)
    app.config["PAGE_SIZE"] = 4
    last = session.get(Alliance, case.alliance.id).event_seq
    auth.login("beta")
    a = case.alliance.id
    first = client.get(f"/a/{a}/activity")
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert seqs(page) == [last, last - 1, last - 2, last - 3]
    assert "Alpha (Alpha User) recorded a production cost of EUR 500.00" in page
    assert 'data-live-region="activity-feed"' in page
    older = re.search(r'href="([^"]*before=(\d+))" rel="next"', page)
    assert int(older.group(2)) == last - 3
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert seqs(second) == list(range(last - 4, max(last - 8, 0), -1))
    assert 'rel="first"' in second
    # Every event of the alliance appears exactly once across the pages.
    everything, url = [], f"/a/{a}/activity"
    while url:
        body = client.get(url).get_data(as_text=True)
        everything += seqs(body)
        found = re.search(r'href="([^"]*)" rel="next"', body)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert everything == list(range(last, 0, -1))


def test_activity_feed_is_for_members_only_and_rejects_a_mangled_cursor(client, auth, session, case):
    _entries(session, case, 1)
    a = case.alliance.id
    auth.login("outsider")
    assert client.get(f"/a/{a}/activity").status_code == 404
    assert client.get(f"/a/{a}/balance").status_code == 404
    assert client.post(f"/a/{a}/notify", data={"notify_above": "10"}).status_code == 404
    own = client.get(f"/a/{case.other.id}/activity").get_data(as_text=True)
    assert "Alpha" not in own
    auth.logout()
    auth.login("accountant")
    for bad in ("x", "-1", "1e3", "9" * 30):
        response = client.get(f"/a/{a}/activity", query_string={"before": bad})
        assert response.status_code == 400
        assert 'id="before-error"' in response.get_data(as_text=True)
    assert seqs(client.get(f"/a/{a}/activity?before=1").get_data(as_text=True)) == []


def test_every_alliance_page_carries_what_the_live_script_needs(client, auth, session, case):
    _entries(session, case, 2)
    seq = session.get(Alliance, case.alliance.id).event_seq
    auth.login("beta")
    a = case.alliance.id
    for path in ("/", "/balance", "/ledger", "/activity", "/entries/new", "/agreement", "/members"):
        page = client.get(f"/a/{a}{path}").get_data(as_text=True)
        assert f'data-events-url="/a/{a}/events"' in page, path
        assert f'data-last-seq="{seq}"' in page, path
        assert f'data-own-partner="{case.pid("Beta")}"' in page, path
        assert 'data-notify-above=""' in page, path
        assert "live.js" in page, path
        assert 'id="live-status"' in page, path
        assert f'href="/a/{a}/balance"' in page, path
        assert f'href="/a/{a}/activity"' in page, path
    expected = {"/": {"balance", "settle-up", "latest", "activity", "reviews"}, "/balance": {"balance", "settle-up"},
                "/ledger": {"ledger"}, "/activity": {"activity-feed"}}
    for path, names in expected.items():
        page = client.get(f"/a/{a}{path}").get_data(as_text=True)
        found = regions_of(page)
        assert set(found) == names | {"life-state"}, path  # every page shows where the alliance is in its life
        for name, tags in found.items():
            # What a viewer types must survive a refresh of the regions: no form or field inside one.
            assert not tags & {"form", "input", "select", "textarea", "button"}, (path, name)
    assert 'data-entry-id="' in client.get(f"/a/{a}/").get_data(as_text=True)
    assert 'data-entry-id="' in client.get(f"/a/{a}/ledger").get_data(as_text=True)


def test_balance_page_shows_the_table_the_period_and_the_settle_up(client, auth, session, case):
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1000",
           date="2020-04-10")
    record(session, case, "beta", partner="Beta", kind="cost", category="production", amount="500",
           date="2020-05-10")
    session.commit()
    auth.login("gamma")
    a = case.alliance.id
    page = client.get(f"/a/{a}/balance").get_data(as_text=True)
    assert 'aria-current="page">Balance' in page
    assert re.search(r'data-partner="Alpha">.*?data-cents="25000" data-figure="net"', page, re.S)
    assert "Beta</strong> pays <strong>Alpha" in page
    assert 'data-cents="25000"' in page
    april = client.get(f"/a/{a}/balance?from=2020-04-01&to=2020-04-30").get_data(as_text=True)
    assert re.search(r'data-partner="Alpha">.*?data-cents="50000" data-figure="net"', april, re.S)
    assert f'href="/a/{a}/balance">Whole term' in april  # back to this page, not the dashboard
    bad = client.get(f"/a/{a}/balance?from=2020-05-01&to=2020-04-01")
    assert bad.status_code == 400
    assert 'id="to-error"' in bad.get_data(as_text=True)


def test_threshold_is_stored_in_cents_shown_again_and_cleared_when_blank(client, auth, session, case):
    auth.login("beta")
    a = case.alliance.id
    response = client.post(f"/a/{a}/notify", data={"notify_above": "1.000,50"})
    assert response.status_code == 302
    assert _threshold(session, case, "beta") == 100050
    assert _threshold(session, case, "alpha") is None  # one's own membership only
    page = client.get(f"/a/{a}/").get_data(as_text=True)
    assert 'data-notify-above="100050"' in page
    assert re.search(r'name="notify_above"[^>]*value="1000.50"', page)
    assert "alerted in the page of entries by other partners of at least EUR 1,000.50" in page
    activity_before = session.query(Activity).count()
    assert client.post(f"/a/{a}/notify", data={"notify_above": "  "}).status_code == 302
    assert _threshold(session, case, "beta") is None
    assert session.query(Activity).count() == activity_before  # a private preference: no event for the others


def test_a_bad_threshold_is_refused_at_the_field_and_nothing_is_stored(client, auth, session, case):
    auth.login("accountant")
    a = case.alliance.id
    assert client.post(f"/a/{a}/notify", data={"notify_above": "250"}).status_code == 302
    for bad in ("abc", "1,234", "-5", "0", "1.234.5", "12.345", "9" * 50):
        response = client.post(f"/a/{a}/notify", data={"notify_above": bad})
        assert response.status_code == 422, bad
        page = response.get_data(as_text=True)
        assert re.search(r'<p class="error" id="notify_above-error">[^<]+</p>', page), bad
        assert 'aria-invalid="true"' in page
        assert _threshold(session, case, "accountant") == 25000, bad
    # What was typed stays in the field to correct, and the rest of the dashboard is still there.
    page = client.post(f"/a/{a}/notify", data={"notify_above": "12x"}).get_data(as_text=True)
    assert re.search(r'name="notify_above"[^>]*value="12x"', page)
    assert 'data-live-region="balance"' in page
