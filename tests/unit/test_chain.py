"""The hash chain's rules without a database: canonical content, linking, and what verify names."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.chain import (
    Link,
    build_chain,
    canonical,
    canonical_around_position,
    check_links,
    fingerprint,
    genesis,
    link_hash,
    make_link,
    verify,
)
from ledger.domain.vocabulary import EntryKind

ALLIANCE = 7

entry_fields = st.fixed_dictionaries({
    "date": st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    "partner": st.integers(1, 10_000),
    "kind": st.sampled_from(list(EntryKind)),
    "amount_cents": st.integers(-10**12, 10**12).filter(bool),
    "description": st.text(max_size=40),
    "counterparty": st.none() | st.integers(1, 10_000),
})
chains = st.lists(entry_fields, min_size=1, max_size=12)


def records_of(fields_list: list[dict]) -> list[tuple[str, int, dict]]:
    return [("entry", i + 1, fields) for i, fields in enumerate(fields_list)]


def contents_of(fields_list: list[dict]) -> dict:
    return {("entry", i + 1): fields for i, fields in enumerate(fields_list)}


@given(chains)
def test_an_untouched_chain_verifies_intact(fields_list):
    links = build_chain(ALLIANCE, records_of(fields_list))
    verdict = verify(ALLIANCE, links, contents_of(fields_list))
    assert verdict.intact
    assert verdict.count == len(fields_list)
    assert verdict.fingerprint == f"{len(links)}-{links[-1].hash[:16]}"
    assert verdict.summary().startswith(f"intact: {len(fields_list)} records, head ")
    assert links[0].previous_hash == genesis(ALLIANCE)
    assert all(b.previous_hash == a.hash for a, b in pairwise(links))


@given(chains, st.data())
def test_a_changed_field_is_named_and_nothing_else(fields_list, data):
    links = build_chain(ALLIANCE, records_of(fields_list))
    index = data.draw(st.integers(0, len(fields_list) - 1))
    contents = contents_of(fields_list)
    changed = dict(fields_list[index])
    changed["amount_cents"] += data.draw(st.integers(1, 100))
    contents[("entry", index + 1)] = changed
    verdict = verify(ALLIANCE, links, contents)
    assert [(p.kind, p.record_id, p.position) for p in verdict.problems] == [("changed", index + 1, index + 1)]
    assert "entry #" in verdict.summary()
    assert "changed" in verdict.summary()


@given(chains, st.data())
def test_a_deleted_record_is_missing(fields_list, data):
    links = build_chain(ALLIANCE, records_of(fields_list))
    index = data.draw(st.integers(0, len(fields_list) - 1))
    contents = contents_of(fields_list)
    del contents[("entry", index + 1)]
    verdict = verify(ALLIANCE, links, contents)
    assert [(p.kind, p.record_id) for p in verdict.problems] == [("missing", index + 1)]


@given(st.lists(entry_fields, min_size=2, max_size=12), st.data())
def test_a_deleted_link_breaks_the_chain_and_leaves_its_record_unlinked(fields_list, data):
    links = build_chain(ALLIANCE, records_of(fields_list))
    index = data.draw(st.integers(0, len(fields_list) - 2))  # not the newest: that one only the head shows
    kept = links[:index] + links[index + 1:]
    verdict = verify(ALLIANCE, kept, contents_of(fields_list))
    assert [(p.kind, p.record_id) for p in verdict.problems] == [("broken", index + 2), ("unlinked", index + 1)]


def test_recomputing_every_later_link_hides_an_edit_from_verify_but_not_from_the_head():
    original = [{"amount_cents": 100}, {"amount_cents": 200}, {"amount_cents": 300}]
    links = build_chain(ALLIANCE, records_of(original))
    forged = [dict(original[0]), {"amount_cents": 999}, dict(original[2])]
    rewritten = build_chain(ALLIANCE, records_of(forged))
    assert verify(ALLIANCE, rewritten, contents_of(forged)).intact
    assert fingerprint(rewritten[-1]) != fingerprint(links[-1])  # an earlier export's head no longer matches
    assert rewritten[0] == links[0]


def test_reordered_links_do_not_verify():
    fields_list = [{"amount_cents": 1}, {"amount_cents": 2}]
    a, b = build_chain(ALLIANCE, records_of(fields_list))
    swapped = [replace(b, position=1, previous_hash=a.previous_hash), replace(a, position=2, previous_hash=b.hash)]
    verdict = verify(ALLIANCE, swapped, contents_of(fields_list))
    assert {p.kind for p in verdict.problems} == {"changed"}


def test_a_record_with_no_link_is_unlinked():
    verdict = verify(ALLIANCE, [], {("entry", 5): {"amount_cents": 1}})
    assert [(p.kind, p.record_id, p.position) for p in verdict.problems] == [("unlinked", 5, None)]
    assert verify(ALLIANCE, [], {}).intact
    assert verify(ALLIANCE, [], {}).fingerprint == "0-genesis"


def test_a_removed_checkpoint_is_not_missing_and_its_removal_is_chained():
    links = build_chain(ALLIANCE, [("checkpoint", 3, {"label": "3-month review"}), ("checkpoint_removed", 3, {})])
    assert verify(ALLIANCE, links, {}).intact
    verdict = verify(ALLIANCE, links[:1], {})
    assert [p.kind for p in verdict.problems] == ["missing"]


def test_chains_of_two_alliances_never_share_a_hash():
    fields = {"amount_cents": 1}
    assert make_link(1, None, "entry", 1, fields).hash != make_link(2, None, "entry", 1, fields).hash
    assert genesis(1) != genesis(2)


@given(st.datetimes(timezones=st.just(UTC)), st.integers(-12, 12))
def test_the_same_instant_serialises_the_same_in_any_timezone(moment, hours):
    other = moment.astimezone(timezone(timedelta(hours=hours)))
    assert canonical("entry", 1, 1, 1, {"at": moment}) == canonical("entry", 1, 1, 1, {"at": other})
    naive_utc = moment.replace(tzinfo=None)
    assert canonical("entry", 1, 1, 1, {"at": moment}) == canonical("entry", 1, 1, 1, {"at": naive_utc})


@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000000"), places=4))
def test_a_decimal_serialises_by_value_not_by_its_trailing_zeros(weight):
    assert canonical("entry", 1, 1, 1, {"w": weight}) == canonical("entry", 1, 1, 1, {"w": weight.quantize(
        Decimal("0.00000001"))})


def test_canonical_content_is_stable_and_refuses_what_it_cannot_serialise():
    content = canonical("entry", 12, 1, 3, {"kind": EntryKind.COST, "date": date(2020, 5, 1),
                                            "at": datetime(2020, 5, 1, 8, 30, tzinfo=UTC), "amount_cents": 12345})
    assert content == (b'{"alliance":1,"fields":{"amount_cents":12345,"at":"2020-05-01T08:30:00.000000Z",'
                       b'"date":"2020-05-01","kind":"cost"},"id":12,"position":3,"type":"entry","v":1}')
    assert link_hash("0" * 64, content) == link_hash("0" * 64, content)
    with pytest.raises(TypeError):
        canonical("entry", 1, 1, 1, {"x": object()})
    with pytest.raises(ValueError, match="unknown record type"):
        canonical("nonsense", 1, 1, 1, {})
    with pytest.raises(ValueError, match="non-finite"):
        canonical("entry", 1, 1, 1, {"x": Decimal("NaN")})


@given(entry_fields | st.fixed_dictionaries({"position": st.integers(0, 3), "note": st.text(max_size=20)}),
       st.integers(1, 10**12), st.integers(1, 10**6), st.integers(1, 10**15))
def test_the_content_cut_at_the_position_is_the_content_at_any_position(fields, record_id, alliance, position):
    """PostgreSQL hashes a new entry's link in SQL from these two halves: they must give canonical's bytes,
    even when a field's own name or text looks like the position."""
    before, after = canonical_around_position("entry", record_id, alliance, fields)
    assert before + str(position).encode() + after == canonical("entry", record_id, alliance, position, fields)


def test_the_cut_survives_text_that_spells_the_marker():
    fields = {"description": ',"position":0,', "position": 0}
    before, after = canonical_around_position("entry", 5, 1, fields)
    assert before + b"42" + after == canonical("entry", 5, 1, 42, fields)


def test_link_is_a_value():
    link = Link(1, "entry", 1, "a" * 64, "b" * 64)
    assert fingerprint(link) == "1-" + "a" * 16


def test_an_id_reused_after_a_removal_is_checked_as_the_new_record():
    links = build_chain(ALLIANCE, [("checkpoint", 1, {"label": "old"}), ("checkpoint_removed", 1, {}),
                                   ("checkpoint", 1, {"label": "new"})])
    assert verify(ALLIANCE, links, {("checkpoint", 1): {"label": "new"}}).intact
    assert [p.position for p in verify(ALLIANCE, links, {("checkpoint", 1): {"label": "forged"}}).problems] == [3]
    # Removed and nothing new: a checkpoint row that turns up again was not added by the app.
    verdict = verify(ALLIANCE, links[:2], {("checkpoint", 1): {"label": "old"}})
    assert [p.kind for p in verdict.problems] == ["unlinked"]


def _recomputed(links: list[Link], index: int, fields: dict) -> list[Link]:
    """An attacker's edit: the record at ``index`` changed and its own link's hash recomputed to fit it."""
    link = links[index]
    forged = make_link(ALLIANCE, Link(link.position - 1, "entry", 0, link.previous_hash, "") if index else None,
                       link.record_type, link.record_id, fields)
    return [*links[:index], forged, *links[index + 1:]]


@given(st.lists(entry_fields, min_size=2, max_size=12), st.data())
def test_a_change_hidden_by_recomputing_its_own_link_names_that_record_not_the_next(fields_list, data):
    """Issue 16, item 14: the next link still holds the hash the record was chained with, so the record whose
    content no longer matches is the one named, as changed, and the untouched next record is not blamed."""
    links = build_chain(ALLIANCE, records_of(fields_list))
    index = data.draw(st.integers(0, len(fields_list) - 2))  # the newest has no next link: only a head shows it
    contents = contents_of(fields_list)
    changed = {**fields_list[index], "amount_cents": fields_list[index]["amount_cents"] + data.draw(st.integers(1, 99))}
    contents[("entry", index + 1)] = changed
    verdict = verify(ALLIANCE, _recomputed(links, index, changed), contents)
    assert [(p.kind, p.record_id, p.position) for p in verdict.problems] == [("changed", index + 1, index + 1)]
    assert "recomputed" in verdict.problems[0].message


@given(st.lists(entry_fields, min_size=2, max_size=12), st.data())
def test_a_rewritten_hash_or_previous_hash_alone_blames_the_link_not_the_record(fields_list, data):
    links = build_chain(ALLIANCE, records_of(fields_list))
    index = data.draw(st.integers(0, len(fields_list) - 2))
    contents = contents_of(fields_list)
    own = [*links[:index], replace(links[index], hash="0" * 64), *links[index + 1:]]
    assert [(p.kind, p.record_id) for p in verify(ALLIANCE, own, contents).problems] == [("broken", index + 1)]
    following = [*links[:index + 1], replace(links[index + 1], previous_hash="0" * 64), *links[index + 2:]]
    assert [(p.kind, p.record_id) for p in verify(ALLIANCE, following, contents).problems] == [("broken", index + 2)]


TAMPERINGS = st.sampled_from(["content", "content+hash", "hash", "previous", "delete-link", "delete-record"])


@given(st.lists(entry_fields, min_size=2, max_size=10), st.lists(st.tuples(TAMPERINGS, st.integers(0, 9)),
                                                                 max_size=3), st.integers(1, 10))
def test_segments_each_given_the_link_before_and_after_find_what_the_whole_check_finds(fields_list, edits, size):
    """The Verify page walks a long chain in segments (``ledger.chain.verify_segment``): each gets the stored link
    before it and the one after it, and between them they report exactly the whole check's problems."""
    links = build_chain(ALLIANCE, records_of(fields_list))
    contents = contents_of(fields_list)
    for how, at in edits:
        if not links:
            break
        index = at % len(links)
        link, key = links[index], ("entry", links[index].record_id)
        if how.startswith("content") and key in contents:
            contents[key] = {**contents[key], "description": "forged"}
            if how == "content+hash":
                links = _recomputed(links, index, contents[key])
        elif how == "hash":
            links[index] = replace(link, hash="1" * 64)
        elif how == "previous":
            links[index] = replace(link, previous_hash="2" * 64)
        elif how == "delete-link":
            del links[index]
        else:
            contents.pop(key, None)
    whole, _ = check_links(ALLIANCE, links, contents, {})
    walked: list = []
    for start in range(0, len(links), size):
        segment = links[start:start + size]
        following = links[start + size] if start + size < len(links) else None
        found, _ = check_links(ALLIANCE, segment, contents, {}, before=links[start - 1] if start else None,
                               following=following)
        walked += found
    assert walked == whole
