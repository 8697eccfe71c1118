"""Tamper evidence on both engines: every write chains its record; edits and deletions made in SQL are named.

The tampering is done as an attacker with database access would: raw SQL ``UPDATE`` and ``DELETE``
statements on a separate connection, past every service. The verifier must then name each record
touched (changed or missing) and nothing else.
"""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import event, func, select, text

from ledger.chain import (
    content_of,
    entry_fields,
    find_fingerprint,
    head_of,
    links_of,
    unlinked_problems,
    verify_alliance,
    verify_segment,
)
from ledger.db import make_engine
from ledger.demo import find_demo, load_demo
from ledger.domain.chain import Head, Link, fingerprint, genesis, make_link
from ledger.migrate import alembic_config, upgrade
from ledger.models import Activity, Alliance, ChainLink, Entry, Membership, User
from ledger.services import agreements, checkpoints, entries
from tests.builders import TODAY, Case, record


def who(session, case: Case, key: str) -> tuple[User, Membership]:
    return session.get(User, case.users[key].id), session.get(Membership, case.memberships[key].id)


def sql(database_url: str, *statements: str, **params) -> None:
    """Run statements on a connection of their own, as someone editing the database by hand would."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), params)
    finally:
        engine.dispose()


def verdict(session, case: Case):
    """The whole chain's verdict, checked against walking it in segments of several sizes (the Verify page's
    way with a long chain): every tampering case below is found the same both ways."""
    session.expire_all()
    whole = verify_alliance(session, case.alliance.id)
    for size in (1, 2, 3, 1000):
        assert walked(session, case.alliance.id, size) == whole.problems, size
    return whole


def walked(session, alliance_id: int, size: int) -> list:
    problems, start = [], 1
    while start is not None:
        segment = verify_segment(session, alliance_id, start, size)
        assert segment.start == start
        problems += segment.problems
        start = segment.next_start
    return problems + unlinked_problems(session, alliance_id)


@pytest.fixture
def booked(session, case) -> dict[str, int]:
    """Five entries, a reversal and a settle-up on the case's alliance, committed."""
    ids = {}
    for name, partner, amount in [("fabric", "Alpha", "1200.00"), ("waste", "Beta", "300.50"),
                                  ("ads", "Alpha", "99.99"), ("sales", "Beta", "5000.00")]:
        kind = "revenue" if name == "sales" else "cost"
        category = "sales" if name == "sales" else "materials"
        ids[name] = record(session, case, "coordinator", kind=kind, partner=partner, amount=amount,
                           category=_category(case, category), description=name).id
    coord, coord_m = who(session, case, "coordinator")
    ids["reversal"] = entries.reverse_entry(session, coord, coord_m, session.get(Entry, ids["ads"]),
                                            {"reason": "typo"}, TODAY).id
    session.commit()
    return ids


def _category(case: Case, wanted: str) -> str:
    """A category of the case by a word of its name (the case's categories are the app's defaults)."""
    names = sorted(case.categories)
    return next((n for n in names if wanted in n.lower()), names[0])


def test_every_write_is_chained_and_verifies_intact(session, case, booked):
    result = verdict(session, case)
    assert result.intact, result.problems
    links = links_of(session, case.alliance.id)
    assert [link.position for link in links] == list(range(1, len(links) + 1))
    types = [link.record_type for link in links]
    # The charter version of the alliance's creation, the founding agreement, then the entries in order.
    assert types == ["charter_version", "agreement_version"] + ["entry"] * 5
    assert [link.record_id for link in links[2:]] == [booked[k] for k in ("fabric", "waste", "ads", "sales",
                                                                            "reversal")]
    assert result.summary() == f"intact: 7 records, head {result.fingerprint}"
    assert verify_alliance(session, case.other.id).intact  # the other alliance has a chain of its own
    assert links_of(session, case.other.id)[0].record_type == "charter_version"


def test_an_edited_amount_date_and_partner_and_a_deleted_entry_are_each_named(session, case, booked,
                                                                             database_url):
    sql(database_url,
        "UPDATE entries SET amount = amount + 1 WHERE id = :fabric",
        "UPDATE entries SET entry_date = :day WHERE id = :waste",
        "UPDATE entries SET partner_id = :gamma WHERE id = :sales",
        "DELETE FROM activity WHERE entry_id = :reversal",
        "DELETE FROM entries WHERE id = :reversal",
        fabric=booked["fabric"], waste=booked["waste"], day=date(2020, 5, 2), sales=booked["sales"],
        gamma=case.pid("Gamma"), reversal=booked["reversal"])
    result = verdict(session, case)
    assert not result.intact
    assert [(p.kind, p.record_type, p.record_id) for p in result.problems] == [
        ("changed", "entry", booked["fabric"]), ("changed", "entry", booked["waste"]),
        ("changed", "entry", booked["sales"]), ("missing", "entry", booked["reversal"])]
    assert result.first.position == 3
    assert result.summary().startswith(f"BROKEN at entry #{booked['fabric']} (position 3): ")
    assert "(and 3 more problems)" in result.summary()


def forge(session, case: Case, database_url: str, record_id: int, *, rest: bool = False) -> None:
    """What an attacker with database access does after editing an entry: recompute its link's hash from the
    entry as it is now (and, with ``rest``, every later link too), so the link agrees with the edit."""
    session.expire_all()
    links = links_of(session, case.alliance.id)
    index = next(i for i, link in enumerate(links) if (link.record_type, link.record_id) == ("entry", record_id))
    previous: Head | Link = Head(links[index].position - 1, links[index].previous_hash)
    for link in links[index:] if rest else links[index:index + 1]:
        previous = make_link(case.alliance.id, previous, link.record_type, link.record_id,
                             content_of(session, case.alliance.id, link.record_type, link.record_id))
        sql(database_url, "UPDATE chain_links SET hash = :h, previous_hash = :p WHERE alliance_id = :a "
            "AND position = :n", h=previous.hash, p=previous.previous_hash, a=case.alliance.id, n=previous.position)
    session.expire_all()


def test_an_amount_changed_and_its_links_hash_recomputed_names_that_entry_not_the_next(session, case, booked,
                                                                                       database_url):
    """Issue 16, item 14: the next link still holds the hash the entry was chained with, so the verdict names
    the entry whose content no longer matches (both ways: whole and in segments), not the untouched next one."""
    sql(database_url, "UPDATE entries SET amount = amount + 10000 WHERE id = :id", id=booked["waste"])
    forge(session, case, database_url, booked["waste"])
    result = verdict(session, case)
    assert [(p.kind, p.record_id, p.position) for p in result.problems] == [("changed", booked["waste"], 4)]
    assert "its link's hash recomputed" in result.problems[0].message


def test_a_links_hash_rewritten_alone_is_a_broken_link_and_the_entry_as_chained(session, case, booked,
                                                                               database_url):
    sql(database_url, "UPDATE chain_links SET hash = :h WHERE alliance_id = :a AND record_type = 'entry' "
        "AND record_id = :id", h="f" * 64, a=case.alliance.id, id=booked["waste"])
    result = verdict(session, case)
    assert [(p.kind, p.record_id, p.position) for p in result.problems] == [("broken", booked["waste"], 4)]
    assert "itself is as it was chained" in result.problems[0].message


def test_an_amount_changed_and_the_rest_of_the_chain_recomputed_verifies_intact_on_its_own(session, case, booked,
                                                                                          database_url):
    """Nothing in the chain can show this one: only an earlier export's head does (item 16)."""
    earlier = head_of(session, case.alliance.id)
    sql(database_url, "UPDATE entries SET amount = amount + 10000 WHERE id = :id", id=booked["waste"])
    forge(session, case, database_url, booked["waste"], rest=True)
    assert verdict(session, case).intact
    assert find_fingerprint(session, case.alliance.id, fingerprint(earlier)) is None


@pytest.mark.parametrize("statement", [
    "UPDATE entries SET amount = 1 WHERE id = :id",
    "UPDATE entries SET entry_date = '2020-05-02' WHERE id = :id",
    "UPDATE entries SET description = 'something else' WHERE id = :id",
    "UPDATE entries SET kind = 'contribution' WHERE id = :id",
    "UPDATE entries SET recorded_by_id = (SELECT max(id) FROM users) WHERE id = :id",
])
def test_any_hashed_field_edited_alone_is_named(session, case, booked, database_url, statement):
    sql(database_url, statement, id=booked["waste"])
    result = verdict(session, case)
    assert [(p.kind, p.record_id) for p in result.problems] == [("changed", booked["waste"])]


def test_a_row_inserted_behind_the_apps_back_and_a_deleted_link_are_named(session, case, booked, database_url):
    sql(database_url,
        "INSERT INTO entries (alliance_id, entry_date, partner_id, kind, category_id, amount, description, "
        "reference, version_id, pool_id, recorded_by_id, recorded_at) SELECT alliance_id, entry_date, partner_id, "
        "kind, category_id, amount, 'slipped in', reference, version_id, pool_id, recorded_by_id, recorded_at "
        "FROM entries WHERE id = :waste",
        waste=booked["waste"])
    slipped = session.scalar(select(func.max(Entry.id)))
    result = verdict(session, case)
    assert [(p.kind, p.record_id, p.position) for p in result.problems] == [("unlinked", slipped, None)]
    assert "not in the chain" in result.problems[0].message

    sql(database_url, "DELETE FROM chain_links WHERE alliance_id = :a AND record_type = 'entry' AND record_id = :id",
        a=case.alliance.id, id=booked["waste"])
    kinds = [(p.kind, p.record_id) for p in verdict(session, case).problems]
    assert kinds == [("broken", booked["ads"]), ("unlinked", booked["waste"]), ("unlinked", slipped)]


def test_a_link_rewritten_to_name_no_kind_of_record_is_named_both_ways(session, case, booked, database_url):
    """A link's record type rewritten to nonsense: its record counts as missing and the entry as unlinked, in
    the whole check and in every segmented walk (which must not fail on a type no loader knows)."""
    sql(database_url, "UPDATE chain_links SET record_type = 'nonsense' WHERE alliance_id = :a AND record_id = :id "
        "AND record_type = 'entry'", a=case.alliance.id, id=booked["waste"])
    assert [(p.kind, p.record_type, p.record_id) for p in verdict(session, case).problems] == [
        ("missing", "nonsense", booked["waste"]), ("unlinked", "entry", booked["waste"])]


def test_edited_agreement_and_charter_versions_are_named(session, case, booked, database_url):
    version_id = links_of(session, case.alliance.id)[1].record_id
    charter_id = links_of(session, case.alliance.id)[0].record_id
    sql(database_url,
        "UPDATE pool_shares SET weight = weight * 2 WHERE partner_id = :alpha",
        "UPDATE charter_versions SET cause = 'a different cause' WHERE id = :charter",
        alpha=case.pid("Alpha"), charter=charter_id)
    result = verdict(session, case)
    assert [(p.kind, p.record_type, p.record_id) for p in result.problems] == [
        ("changed", "charter_version", charter_id), ("changed", "agreement_version", version_id)]


def test_a_new_agreement_version_that_reassigns_entries_keeps_the_chain_intact(session, case, booked):
    coord, coord_m = who(session, case, "coordinator")
    from tests.builders import fifty_fifty_pools

    agreements.create_version(session, coord, coord_m, {"effective_from": "2020-05-01",
                                                        "pools": fifty_fifty_pools(case.partners)})
    session.commit()
    result = verdict(session, case)
    assert result.intact, result.problems
    assert links_of(session, case.alliance.id)[-1].record_type == "agreement_version"


def test_a_checkpoint_through_to_its_decision_and_a_removed_one_verify_intact(session, case, database_url):
    from tests.integration.test_checkpoints import decide, opened, schedule, vote

    doomed = schedule(session, case, "2021-01-01")
    coord, coord_m = who(session, case, "coordinator")
    checkpoints.remove_checkpoint(session, coord, coord_m, session.get(checkpoints.Checkpoint, doomed.id))
    session.commit()
    checkpoint = opened(session, case)
    user, membership = who(session, case, "alpha")
    checkpoints.assess(session, user, membership, checkpoint, {"satisfaction": "4", "fairness": "3",
                                                               "commitment": "5", "trust": "4"})
    session.commit()
    vote(session, case, "steering", checkpoint.id)
    session.execute(text("UPDATE alliances SET quorum = 'all_steering' WHERE id = :a"), {"a": case.alliance.id})
    session.commit()
    decide(session, case, checkpoint.id, decision="renew", new_term_end="2022-06-30")
    result = verdict(session, case)
    assert result.intact, result.problems
    types = [link.record_type for link in links_of(session, case.alliance.id)]
    assert types[2:] == ["checkpoint", "checkpoint_removed", "checkpoint", "checkpoint_opened", "assessment",
                         "vote", "checkpoint_decided", "charter_version"]

    sql(database_url, "UPDATE votes SET choice = 'terminate'",
        "UPDATE checkpoints SET snapshot = replace(snapshot, '\"', '''') WHERE id = :id", id=checkpoint.id)
    assert [(p.kind, p.record_type) for p in verdict(session, case).problems] == [
        ("changed", "checkpoint_opened"), ("changed", "vote")]


def test_an_earlier_exports_fingerprint_is_found_until_history_is_rewritten(session, case, booked, database_url):
    earlier = head_of(session, case.alliance.id)
    fingerprint = f"{earlier.position}-{earlier.hash[:16]}"
    record(session, case, "alpha", kind="cost", partner="Alpha", amount="1.00", category=_category(case, "mat"))
    session.commit()
    assert find_fingerprint(session, case.alliance.id, fingerprint) == earlier
    assert find_fingerprint(session, case.alliance.id, "nonsense") is None
    sql(database_url, "UPDATE chain_links SET hash = :h WHERE alliance_id = :a AND position = :p",
        h="0" * 64, a=case.alliance.id, p=earlier.position)
    assert find_fingerprint(session, case.alliance.id, fingerprint) is None


def test_an_upgraded_database_is_backfilled_and_verifies_intact(session, database_url, app):
    """Migration 0005 links the records written before it, in the order they happened."""
    load_demo(session)
    session.commit()
    alliance = find_demo(session)
    before = links_of(session, alliance.id)
    assert verify_alliance(session, alliance.id).intact
    session.close()
    app.extensions["ledger.engine"].dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0004")
    upgrade(database_url)
    session.expire_all()
    result = verify_alliance(session, alliance.id)
    assert result.intact, result.problems[:3]
    after = links_of(session, alliance.id)
    assert len(after) == len(before) > 250
    assert sorted((link.record_type, link.record_id) for link in after) == sorted(
        (link.record_type, link.record_id) for link in before)
    # The chain goes on from the backfilled head.
    user = session.scalar(select(User).where(User.email == "coordinator@ppe-masks.example"))
    assert user is not None
    assert session.scalar(select(func.count()).select_from(ChainLink)
                          .where(ChainLink.alliance_id == alliance.id)) == len(after)
    assert session.get(Alliance, alliance.id) is not None


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_the_cli_says_intact_or_names_the_first_record_and_exits_1(runner, session, case, booked, database_url):
    ok = runner.invoke(args=["ledger", "verify", str(case.alliance.id)])
    assert ok.exit_code == 0, ok.output
    assert "Intact: 7 records chained, every one as it was recorded" in ok.output
    assert "chain head now: 7-" in ok.output
    assert "shows only against the chain head of an earlier export" in ok.output  # what intact cannot rule out
    everything = runner.invoke(args=["ledger", "verify"])
    assert everything.exit_code == 0
    assert everything.output.count("Intact:") == 2

    sql(database_url, "UPDATE entries SET amount = 5 WHERE id = :id", id=booked["sales"])
    broken = runner.invoke(args=["ledger", "verify", str(case.alliance.id)])
    assert broken.exit_code == 1
    assert (f"The chain is broken. The first record that does not match: entry #{booked['sales']} (position 6)"
            in broken.output)
    assert f"changed: entry #{booked['sales']} (position 6)" in broken.output

    missing = runner.invoke(args=["ledger", "verify", "999999"])
    assert missing.exit_code == 2
    assert "no alliance #999999" in missing.output


def test_concurrent_writers_never_fork_the_chain(app, session, case):
    """4 writers x 10 entries on one alliance at once: one gapless chain, every entry once, intact."""
    import threading

    factory = app.extensions["ledger.sessions"]
    errors: list[BaseException] = []
    for objects in (case.partners, case.users, case.memberships, case.categories):
        for obj in objects.values():
            assert obj.id  # loaded here: the writers must not lazy-load through this thread's session

    def write(who: str) -> None:
        try:
            with factory() as s:
                for _ in range(10):
                    record(s, case, who, kind="cost", partner=who.title(), amount="1.00", category="production")
                    s.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(who,)) for who in ("alpha", "beta", "gamma", "omega")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    result = verdict(session, case)
    assert result.intact, result.problems[:3]
    links = links_of(session, case.alliance.id)
    assert [link.position for link in links] == list(range(1, 43))
    entry_ids = set(session.scalars(select(Entry.id).where(Entry.alliance_id == case.alliance.id)))
    assert sorted(link.record_id for link in links if link.record_type == "entry") == sorted(entry_ids)


TRICKY_TEXT = ["Caf\u00e9 \u2014 \u201cquoted\u201d \u2018text\u2019", "emoji 😀 and CJK 漢字",
               'a "quote", a \\ backslash and a \t tab',
               ',"position":0,"type":"entry"', "ÆØÅ ß ﬁ", "x" * 500]


@pytest.mark.parametrize("description", TRICKY_TEXT)
def test_an_entry_of_any_text_is_linked_with_the_hash_the_verifier_computes(session, case, description):
    """PostgreSQL hashes an entry's link in SQL (``ledger.chain.link_hash_sql``), SQLite in Python: on both,
    the stored hash is the one ``ledger.domain.chain.make_link`` gives for the entry as the verifier reads it."""
    previous = head_of(session, case.alliance.id)
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="7.10",
                   description=description)
    session.commit()
    stored = head_of(session, case.alliance.id)
    fields = entry_fields(session.get(Entry, entry.id), "EUR")
    assert stored == make_link(case.alliance.id, previous, "entry", entry.id, fields)
    assert verdict(session, case).intact


def test_the_first_link_of_an_empty_chain_starts_from_the_genesis_hash(session, case, database_url):
    """An alliance whose chain is empty (its links deleted here; none is made this way by the app) links its
    next entry to the genesis value, as the verifier expects of position 1."""
    sql(database_url, "DELETE FROM chain_links WHERE alliance_id = :a", a=case.alliance.id)
    session.expire_all()
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1")
    session.commit()
    link = head_of(session, case.alliance.id)
    assert (link.position, link.previous_hash) == (1, genesis(case.alliance.id))
    assert link == make_link(case.alliance.id, None, "entry", entry.id,
                             entry_fields(session.get(Entry, entry.id), "EUR"))


def test_recording_an_entry_holds_the_lock_for_as_few_statements_as_the_engine_allows(app, session, case):
    """Everything from the lock to the commit is time the alliance's other writers wait: on PostgreSQL the
    entry, its activity record and its link are one statement after the lock; SQLite needs three."""
    statements: list[str] = []
    engine = app.extensions["ledger.engine"]

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="3")
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    lock = next(i for i, s in enumerate(statements) if s.startswith("UPDATE alliances SET event_seq"))
    after_lock = statements[lock + 1:]
    assert len(after_lock) == (1 if engine.dialect.name == "postgresql" else 3), after_lock
    assert session.scalar(select(Activity.summary).where(Activity.entry_id == entry.id)).endswith(f"(#{entry.id})")
    assert verdict(session, case).intact


def test_verify_head_says_an_earlier_exports_head_is_cut_short_or_rewritten_and_exits_1(runner, session, case,
                                                                                        booked, database_url):
    """Issue 16, item 16: ``verify --head`` checks an earlier export's chain head, as the page and the API do."""
    earlier = fingerprint(head_of(session, case.alliance.id))
    args = ["ledger", "verify", str(case.alliance.id), "--head", earlier]
    ok = runner.invoke(args=args)
    assert ok.exit_code == 0, ok.output
    assert "Intact:" in ok.output
    assert f"The chain head of the earlier export, {earlier}, is in the chain (position 7)" in ok.output

    sql(database_url, "DELETE FROM chain_links WHERE alliance_id = :a AND position = 7",
        "DELETE FROM activity WHERE entry_id = :id", "DELETE FROM entries WHERE id = :id",
        a=case.alliance.id, id=booked["reversal"])
    cut = runner.invoke(args=args)
    assert cut.exit_code == 1, cut.output
    assert "intact" not in cut.output.lower()
    assert f"The chain head of the earlier export, {earlier}, lies beyond the end of the chain, which now ends at " \
           "position 6" in " ".join(cut.output.split())
    assert "head cut short" in cut.output


def test_verify_head_catches_a_chain_rewritten_from_a_record_on(runner, session, case, booked, database_url):
    earlier = fingerprint(head_of(session, case.alliance.id))
    sql(database_url, "UPDATE entries SET amount = amount + 10000 WHERE id = :id", id=booked["waste"])
    forge(session, case, database_url, booked["waste"], rest=True)
    assert runner.invoke(args=["ledger", "verify", str(case.alliance.id)]).exit_code == 0  # nothing shows it alone
    rewritten = runner.invoke(args=["ledger", "verify", str(case.alliance.id), "--head", earlier])
    assert rewritten.exit_code == 1, rewritten.output
    words = " ".join(rewritten.output.split())
    assert f"{earlier}, is not in the chain: a record at position 7 or earlier was changed" in words
    assert "Which record was changed, the chain itself cannot tell" in words

    bad = runner.invoke(args=["ledger", "verify", str(case.alliance.id), "--head", "seven"])
    assert bad.exit_code == 2
    assert "Paste the chain head" in bad.output
    assert runner.invoke(args=["ledger", "verify", "--head", earlier]).exit_code == 2
