"""The demo alliance: the case's PPE-masks alliance, as a new user first sees it.

It is built only through ``ledger.services``, never by inserting rows, so
every validation rule, pool lookup and activity record applies exactly as if
the partners had typed the entries themselves; if a rule changes and the demo
breaks it, loading the demo fails loudly instead of showing impossible books.

The ledger reads like the case's first nine months (April to December 2020):
Beta buys two mask lines, Gamma delivers the non-woven fabric, Alpha cuts,
certifies and sells, Omega distributes, production starts on 18 May at a
ramp towards 2,000,000 masks a month, prices fall as imports come back, a
promised public incentive never arrives (its entry is reversed), a regional
grant does, and the partners square up at the three-month review. Amounts
vary by a seeded random generator, so every machine gets the same ledger.

The value lifecycle follows the case too: a charter with the partners'
expectations and commitments and four targets, monthly measurements, and the
reviews after 3 and 9 months. At 3 months the steering group renews (the
term gains a quarter for the late start); at 9 months the partners' worries
about dependency and value distribution show in their assessments, the
protagonists' steering members disagree, and the decision is left for the
demo user to record.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.domain.money import parse_amount, to_decimal_string
from ledger.domain.vocabulary import MemberRole
from ledger.models import Alliance, Category, Checkpoint, Entry, Membership, Partner, User
from ledger.queries import balance_sheet
from ledger.services import agreements, alliances, entries, users

DEMO_PASSWORD = "demo-ledger-2020"  # noqa: S105 - printed to every demo user on purpose
ALLIANCE_NAME = "PPE masks 2020"
DOMAIN = "ppe-masks.example"
COORDINATOR_EMAIL = f"coordinator@{DOMAIN}"
CURRENCY = "EUR"
#: The partners are Italian firms: the alliance's calendar day is the one in Rome.
TIMEZONE = "Europe/Rome"

#: (key, name, role, partner): the coordinator is from the regional business association that
#: introduced the partners; the key is also the local part of the user's email.
PEOPLE = (
    ("coordinator", "Giulia Ferraro", MemberRole.COORDINATOR, None),
    ("alpha", "Marco Bellini", MemberRole.PARTNER_MEMBER, "Alpha"),
    ("beta", "Elena Rossi", MemberRole.PARTNER_MEMBER, "Beta"),
    ("gamma", "Paolo Conti", MemberRole.PARTNER_MEMBER, "Gamma"),
    ("omega", "Sara Moretti", MemberRole.PARTNER_MEMBER, "Omega"),
    ("accountant", "Luca Galli", MemberRole.ACCOUNTANT, None),
    ("steering", "Chiara Fontana", MemberRole.STEERING_MEMBER, None),
    ("board-alpha", "Roberto Greco", MemberRole.STEERING_MEMBER, "Alpha"),
    ("board-beta", "Anna Marino", MemberRole.STEERING_MEMBER, "Beta"),
)

#: (name, role in the alliance, type). Alpha certifies the product (conformity tests), Gamma sells
#: it the fabric, Omega takes the masks to the health-care market.
PARTNERS = (
    ("Alpha", "protagonist", "commercial_laboratory"),
    ("Beta", "protagonist", "other"),
    ("Gamma", "supplier", "supplier"),
    ("Omega", "secondary", "customer"),
)

#: Which demo user records a partner's own entries.
RECORDER = {"Alpha": "alpha", "Beta": "beta", "Gamma": "gamma", "Omega": "omega"}

CAUSE = ("Certified surgical face masks (type IIR) for front-line health workers during the COVID-19 "
         "emergency: up to 2,000,000 masks a month for two years, at prices that only cover the costs. "
         "Returns and the costs of production, trading and waste are shared 50/50 by Alpha and Beta; "
         "Gamma and Omega are paid for each service rendered.")

AGREEMENT_NOTE = ("Founding agreement: returns from the investment, and the costs of production, trading and "
                  "waste, split equally between the protagonists Alpha and Beta. Gamma (fabric) and Omega "
                  "(distribution) are paid per service; Alpha is compensated for certification and sales. "
                  "Reviews after 3 and 9 months.")

#: Masks made per month: the lines start on 18 May; August has the summer shutdown.
PRODUCED = {5: 500_000, 6: 1_200_000, 7: 1_600_000, 8: 1_100_000, 9: 1_800_000, 10: 2_000_000,
            11: 2_000_000, 12: 1_600_000}
#: Selling price, cents per thousand masks: it falls as imports come back.
PRICE = {5: 50_000, 6: 45_000, 7: 38_000, 8: 32_000, 9: 28_000, 10: 25_000, 11: 24_000, 12: 22_000}
#: Three-layer SMS fabric, cents per thousand masks (meltblown was scarce and dear in spring 2020).
FABRIC = {5: 6_500, 6: 6_000, 7: 5_000, 8: 4_500, 9: 4_000, 10: 3_500, 11: 3_300, 12: 3_200}
CUSTOMERS = ("Verona university hospital trust", "Trento provincial health agency",
             "Veneto civil protection", "Lombardy care-home consortium", "Brescia hospital group",
             "north-east pharmacy wholesaler", "Rovereto nursing homes")
HOLIDAYS = {date(2020, 4, 13), date(2020, 5, 1), date(2020, 6, 2), date(2020, 8, 14), date(2020, 8, 17),
            date(2020, 12, 8), date(2020, 12, 24), date(2020, 12, 25), date(2020, 12, 31)}
REVIEW_SETTLE_UP = date(2020, 7, 15)
MONTH_NAMES = {m: calendar.month_name[m] for m in range(1, 13)}


@dataclass
class Step:
    """One thing a demo user does, in date order."""

    day: date
    who: str
    raw: dict = field(default_factory=dict)
    tag: str | None = None  # names an entry a later reversal refers to
    reverses: str | None = None  # the tag of the entry this step reverses
    settle_up: bool = False


def logins() -> list[tuple[str, str]]:
    """The demo log-ins (all with :data:`DEMO_PASSWORD`), as the command line prints them."""
    result = []
    for key, _name, role, partner in PEOPLE:
        text = f"{role.label} for {partner}" if partner else role.label
        if role is MemberRole.COORDINATOR:
            text += " (regional business association)"
        result.append((f"{key}@{DOMAIN}", text))
    return result


def find_demo(session: Session) -> Alliance | None:
    """The demo alliance, if its coordinator already runs an alliance by that name."""
    return session.scalar(
        select(Alliance).join(Membership, Membership.alliance_id == Alliance.id)
        .join(User, User.id == Membership.user_id)
        .where(User.email == COORDINATOR_EMAIL, Alliance.name == ALLIANCE_NAME,
               Membership.role == MemberRole.COORDINATOR))


def load_demo(session: Session) -> tuple[bool, list[tuple[str, str]]]:
    """Create the demo alliance unless it is there; flushes, the caller commits.

    Returns whether it was created and the log-ins. A demo user whose email
    already exists (someone created it by hand) is reused as it is.
    """
    if find_demo(session) is not None:
        return False, logins()
    people = {key: users.user_by_email(session, f"{key}@{DOMAIN}") for key, *_ in PEOPLE}
    coordinator = people["coordinator"] or users.create_user(
        session, COORDINATOR_EMAIL, PEOPLE[0][1], DEMO_PASSWORD)
    alliance = alliances.create_alliance(session, coordinator, {
        "name": ALLIANCE_NAME, "cause": CAUSE, "currency": CURRENCY, "timezone": TIMEZONE,
        "start_date": "2020-04-01", "term_end": "2022-03-31"})
    coord_m = session.scalar(select(Membership).where(
        Membership.alliance_id == alliance.id, Membership.user_id == coordinator.id))
    partners = {name: alliances.add_partner(session, coordinator, coord_m,
                                            {"name": name, "role": role, "type": type_})
                for name, role, type_ in PARTNERS}
    members = {"coordinator": coord_m}
    for key, name, role, partner in PEOPLE[1:]:
        members[key] = alliances.add_member(session, coordinator, coord_m, {
            "email": f"{key}@{DOMAIN}", "name": name, "password": DEMO_PASSWORD, "role": role.value,
            "partner_id": partners[partner].id if partner else None})
    shares = [{"partner_id": partners["Alpha"].id, "weight": "1"},
              {"partner_id": partners["Beta"].id, "weight": "1"}]
    agreements.create_version(session, coordinator, coord_m, {
        "effective_from": "2020-04-01", "note": AGREEMENT_NOTE, "pools": [
            {"name": "Shared costs (50/50)", "side": "costs",
             "kinds": ["cost", "contribution", "service_fee"], "categories": "all", "shares": shares},
            {"name": "Returns (50/50)", "side": "returns", "kinds": ["revenue"], "categories": "all",
             "shares": shares}]})
    categories = {c.name: c for c in session.scalars(select(Category).where(Category.alliance_id == alliance.id))}
    _replay(session, alliance, members, partners, categories, plan())
    _lifecycle(session, alliance, members, partners)
    return True, logins()


def _replay(session: Session, alliance: Alliance, members: dict[str, Membership], partners: dict[str, Partner],
            categories: dict[str, Category], steps: list[Step]) -> None:
    tagged: dict[str, Entry] = {}
    for step in sorted(steps, key=lambda s: (s.day, s.settle_up)):
        membership = members[step.who]
        actor = membership.user
        if step.settle_up:
            transfers = balance_sheet(session, alliance).transfers
            entries.record_settle_up(session, actor, membership, {
                "date": step.day.isoformat(), "expected": entries.transfers_fingerprint(transfers)}, step.day)
        elif step.reverses:
            entries.reverse_entry(session, actor, membership, tagged[step.reverses],
                                  {"date": step.day.isoformat(), **step.raw}, step.day)
        else:
            raw = dict(step.raw, date=step.day.isoformat(), partner_id=partners[step.raw["partner"]].id)
            if "counterparty" in raw:
                raw["counterparty_id"] = partners[raw.pop("counterparty")].id
            if "category" in raw:
                raw["category_id"] = categories[raw.pop("category")].id
            del raw["partner"]
            entry = entries.record_entry(session, actor, membership, raw)
            if step.tag:
                tagged[step.tag] = entry


# --- The plan: what happened, in plain data ----------------------------------------------------------


def _eur(cents: int) -> str:
    return to_decimal_string(cents, CURRENCY)


def _workdays(month: int, first: int = 1, last: int = 31) -> list[date]:
    days = calendar.monthrange(2020, month)[1]
    return [date(2020, month, d) for d in range(first, min(last, days) + 1)
            if date(2020, month, d).weekday() < 5 and date(2020, month, d) not in HOLIDAYS]


def _spread(rng: random.Random, month: int, n: int, first: int = 1, last: int = 31) -> list[date]:
    """``n`` working days spread over the month (one per equal slice), in order."""
    days = _workdays(month, first, last)
    size = len(days) / n
    return [rng.choice(days[int(i * size):max(int((i + 1) * size), int(i * size) + 1)]) for i in range(n)]


def _jitter(rng: random.Random, cents: int, spread: int = 80) -> int:
    """The amount give or take ``spread`` per mille, in whole cents (integers only)."""
    return cents * rng.randint(1000 - spread, 1000 + spread) // 1000


def _split(rng: random.Random, total: int, n: int, unit: int = 10_000) -> list[int]:
    """``total`` split into ``n`` uneven parts that are multiples of ``unit`` and add up to it."""
    units = total // unit
    cuts = sorted(rng.sample(range(1, units), n - 1))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, units], strict=True)]
    parts[-1] += total - units * unit
    return [p * unit for p in parts]


def _entry(day: date, partner: str, kind: str, category: str, cents: int, description: str,
           reference: str = "", tag: str | None = None) -> Step:
    return Step(day, RECORDER[partner], {"partner": partner, "kind": kind, "category": category,
                                         "amount": _eur(cents), "description": description,
                                         "reference": reference}, tag=tag)


def _payment(day: date, payer: str, payee: str, cents: int, description: str, reference: str = "") -> Step:
    return Step(day, RECORDER[payer], {"partner": payer, "kind": "settlement", "counterparty": payee,
                                       "amount": _eur(cents), "description": description,
                                       "reference": reference})


def plan() -> list[Step]:
    """Every step of the demo, deterministic: the same list on every run and machine."""
    rng = random.Random(2020)
    steps = [*_start_up(), *_monthly(rng), *_corrections()]
    steps += _payments_to_suppliers(steps)
    steps += _reviews()
    return steps


def _reviews() -> list[Step]:
    """The three-month review squares everyone up; later Alpha, who collects the sales, pays Beta an advance."""
    return [
        Step(REVIEW_SETTLE_UP, "coordinator", settle_up=True),
        _payment(date(2020, 10, 30), "Alpha", "Beta", 50_000_000,
                 "Advance to Beta on its half of the sales receipts, as agreed by the steering group on 27 October",
                 "SEPA-B-10"),
    ]


def _start_up() -> Iterator[Step]:
    """April: certification, the machinery and the first materials, before any mask is made."""
    yield _entry(date(2020, 4, 8), "Alpha", "service_fee", "certification", 1_200_000,
                 "Technical file and ISS validation request for surgical masks (art. 15 DL 18/2020)", "AL-SF-2020/01")
    yield _entry(date(2020, 4, 9), "Beta", "cost", "machinery", 19_800_000,
                 "Automatic surgical mask line no. 1 (1+2 ear-loop welding), 100 pcs/min", "INV MK-2020-0311")
    yield _entry(date(2020, 4, 15), "Alpha", "contribution", "raw materials", 3_840_000,
                 "In kind: non-woven fabric stock from Alpha's warehouse for trials and first runs (1,780 kg)")
    yield _entry(date(2020, 4, 16), "Alpha", "cost", "certification", 286_000,
                 "Laboratory tests EN 14683 on prototype masks (BFE, breathability, splash resistance)",
                 "LAB-20-0417")
    yield _entry(date(2020, 4, 21), "Beta", "cost", "machinery", 19_800_000,
                 "Automatic surgical mask line no. 2 (1+2 ear-loop welding), 100 pcs/min", "INV MK-2020-0342")
    yield _entry(date(2020, 4, 24), "Beta", "contribution", "machinery", 2_800_000,
                 "In kind: ultrasonic welding unit moved from Beta's cold-chain plant (valued at book value)")
    yield _entry(date(2020, 4, 28), "Beta", "cost", "machinery", 1_460_000,
                 "Installation, commissioning and operator training for both lines", "INV MK-2020-0377")
    yield _entry(date(2020, 4, 29), "Alpha", "cost", "raw materials", 190_000,
                 "Elastic ear loops, 500,000 pairs", "PO-A-0142")
    yield _entry(date(2020, 4, 29), "Alpha", "cost", "raw materials", 125_000,
                 "Nose wire, aluminium strip, 500,000 pcs", "PO-A-0143")
    yield _entry(date(2020, 4, 30), "Beta", "cost", "production", 240_000,
                 "Trial runs: set-up scrap, technician hours and energy")
    yield _entry(date(2020, 5, 14), "Alpha", "cost", "certification", 312_000,
                 "Laboratory tests EN 14683 on pre-series batch; ISS validation granted", "LAB-20-0531")
    yield _entry(date(2020, 7, 8), "Beta", "cost", "machinery", 685_000,
                 "Spare ultrasonic horns and cutting rollers after the first 3 million masks", "INV MK-2020-0610")
    yield _entry(date(2020, 9, 17), "Alpha", "cost", "certification", 1_850_000,
                 "CE marking of the masks as medical device class I: notified body fees", "NB-2020-2291")
    yield _entry(date(2020, 10, 12), "Beta", "cost", "machinery", 2_240_000,
                 "Upgrade: third ear-loop welding station on line no. 1", "INV MK-2020-0955")
    yield _entry(date(2020, 10, 20), "Beta", "revenue", "grants", 15_000_000,
                 "Regione Veneto grant for converting production to PPE (decree 2020/114)", "DGR 1142/2020")


def _monthly(rng: random.Random) -> Iterator[Step]:
    """The recurring books of April to December: materials, production, sales, fees."""
    delivery = 400
    for month in range(4, 13):
        name = MONTH_NAMES[month]
        yield _entry(_workdays(month)[0], "Beta", "contribution", "production", 450_000,
                     f"In kind: 600 m\u00b2 production hall at Bassone, {name} (rent-free, valued at market rent)")
        if month not in PRODUCED:
            continue
        made = PRODUCED[month]
        # Gamma's fabric: one delivery per ~400,000 masks, the first one in late April for May's start.
        rolls = round(made / 400_000)
        days = _spread(rng, month, rolls)
        if month == 5:
            days[0] = date(2020, 4, 27)
        for day, masks in zip(days, _split(rng, made, rolls), strict=True):
            delivery += 1
            kg = masks * 3 // 1000
            yield _entry(day, "Gamma", "cost", "raw materials", _jitter(rng, masks * FABRIC[month] // 1000, 30),
                         f"Non-woven fabric rolls, SMS three layers, {kg:,} kg (about {masks:,} masks)",
                         f"DDT 2020/{delivery:04d}")
        # Ear loops and nose wire (Alpha), boxes and cartons (Beta), bought ahead of the month.
        first = 1 if month > 5 else 11
        for day, partner, what, per_thousand in zip(_spread(rng, month, 3, first), ("Alpha", "Alpha", "Beta"),
                                                    ("Elastic ear loops", "Nose wire", "Boxes of 50 and cartons"),
                                                    (380, 250, 520), strict=True):
            yield _entry(day, partner, "cost", "raw materials", _jitter(rng, made * per_thousand // 1000),
                         f"{what} for {made:,} masks", f"PO-{partner[0]}-{month:02d}{rng.randint(10, 99)}")
        yield from _production(rng, month, made)
        yield from _sales(rng, month, made)
        # Omega's distribution fee: EUR 12 per thousand masks shipped, billed weekly.
        weeks = 2 if month == 5 else 4
        for n, (day, masks) in enumerate(zip(_spread(rng, month, weeks, 19 if month == 5 else 1),
                                             _split(rng, made, weeks), strict=True), 1):
            yield _entry(day, "Omega", "service_fee", "distribution", masks * 1_200 // 1000,
                         f"Distribution to hospitals and care homes: {masks:,} masks ({name}, run {n})",
                         f"OM-{month:02d}-{n}")
        # Transport and pallets for the shipments (Alpha ships from Belfiore).
        for day in _spread(rng, month, 2 if month == 5 else 3, 19 if month == 5 else 1):
            yield _entry(day, "Alpha", "cost", "trading", _jitter(rng, 240_000, 350),
                         f"Road freight and pallets, shipments of {day.strftime('%d %B')}",
                         f"TR-{rng.randint(1000, 9999)}")
        # Scrap: Alpha's trimming waste and Beta's rejected batches.
        day_a, day_b = _spread(rng, month, 2, 10)
        yield _entry(day_a, "Alpha", "cost", "waste", _jitter(rng, made * 90 // 1000, 200),
                     f"Disposal of non-woven trimming scrap ({made * 4 // 10_000:,} kg), special waste",
                     f"RIF-{month:02d}/20")
        rejected = made * rng.randint(8, 25) // 1000
        yield _entry(day_b, "Beta", "cost", "waste", rejected * 8,
                     f"Rejected masks (weld and loop defects): {rejected:,} pieces at material cost")
        # Alpha's cutting and rewinding, and Beta's management of the production flow, brought in kind.
        last = _workdays(month)[-1]
        yield _entry(last, "Alpha", "contribution", "production", made * 1_400 // 1000,
                     f"In kind: cutting and rewinding of fabric rolls for {made:,} masks (skilled hours, slitter time)")
        yield _entry(last, "Beta", "contribution", "production", 750_000,
                     f"In kind: production-flow and quality management, {name} (120 skilled hours)")
        # Certification: batch tests by an outside laboratory, and Alpha's monthly QA service.
        for day in _spread(rng, month, 2, 19 if month == 5 else 1):
            yield _entry(day, "Alpha", "cost", "certification", _jitter(rng, 275_000, 120),
                         "Batch release tests EN 14683 (BFE, differential pressure, microbial cleanliness)",
                         f"LAB-20-{rng.randint(1000, 9999)}")
        yield _entry(last, "Alpha", "service_fee", "certification", 350_000,
                     f"Quality assurance and certification service, {name}", f"AL-SF-2020/{month:02d}")


def _production(rng: random.Random, month: int, made: int) -> Iterator[Step]:
    """Beta runs the lines: agency operators, energy, consumables, sanitising."""
    name = MONTH_NAMES[month]
    first = 18 if month == 5 else 1
    for day, half in zip(_spread(rng, month, 2, first), ("first", "second"), strict=True):
        yield _entry(day, "Beta", "cost", "production", _jitter(rng, 2_300_000 // (2 if month == 5 else 1)),
                     f"Agency machine operators, two shifts, {half} half of {name}", f"TEMP-{rng.randint(100, 999)}")
    yield _entry(_workdays(month, 20)[-2], "Beta", "cost", "production", _jitter(rng, made // 2, 100),
                 f"Electricity for the mask lines and compressors, {name}", f"EN-2020-{month:02d}")
    for day in _spread(rng, month, 2, first):
        yield _entry(day, "Beta", "cost", "production", _jitter(rng, 180_000, 400),
                     "Line consumables: ultrasonic anvils, cutting blades, lubricants")
    yield _entry(_workdays(month, 10)[0], "Beta", "cost", "production", 185_000,
                 f"Cleanroom sanitising and environmental monitoring, {name}", f"SAN-{month:02d}")


def _sales(rng: random.Random, month: int, made: int) -> Iterator[Step]:
    """Alpha sells last month's output and is paid about 30 days after delivery; it earns 3% for selling."""
    sold_month = month - 1
    if sold_month not in PRODUCED:
        return
    sold = PRODUCED[sold_month]
    n = rng.randint(5, 7)
    received = 0
    customers = rng.sample(CUSTOMERS, n)
    days = _spread(rng, month, n, 15 if month == 6 else 1)  # paid about 30 days after the first deliveries
    for i, (day, masks) in enumerate(zip(days, _split(rng, sold, n), strict=True)):
        cents = masks * PRICE[sold_month] // 1000
        received += cents
        yield _entry(day, "Alpha", "revenue", "sales", cents,
                     f"Payment received: {masks:,} surgical masks type IIR, {customers[i]}",
                     f"FV-2020/{month:02d}{i + 1:02d}")
    yield _entry(_workdays(month)[-1], "Alpha", "service_fee", "sales", received * 3 // 100,
                 f"Commercial services: sales and customer contracts, 3% of {MONTH_NAMES[month]} receipts",
                 f"AL-SF-2020/S{month:02d}")


def _corrections() -> Iterator[Step]:
    """What went wrong and was put right by a reversal, with the reason, as the case recounts."""
    yield _entry(date(2020, 7, 20), "Alpha", "revenue", "grants", 20_000_000,
                 "National incentive for PPE production (announced to the alliance)", "MISE letter 2020-07",
                 tag="incentive")
    yield Step(date(2020, 10, 5), "alpha", {"reason": "The promised public incentive never came: "
                                            "recorded on the announcement, not on receipt"}, reverses="incentive")
    yield _entry(date(2020, 8, 27), "Beta", "cost", "production", 1_482_000,
                 "Electricity for the mask lines and compressors, August (typing error)", "EN-2020-08B", tag="typo")
    yield Step(date(2020, 8, 28), "beta", {"reason": "Amount typed as 14,820.00 instead of 1,482.00"},
               reverses="typo")
    yield _entry(date(2020, 8, 28), "Beta", "cost", "production", 148_200,
                 "Electricity for the extra night shifts, August (corrected amount)", "EN-2020-08B")
    yield _entry(date(2020, 9, 14), "Gamma", "cost", "raw materials", 1_596_000,
                 "Non-woven fabric rolls, SMS three layers (delivery note entered twice)", "DDT 2020/0418",
                 tag="duplicate")
    yield Step(date(2020, 9, 16), "gamma", {"reason": "Duplicate: delivery DDT 2020/0418 was already recorded"},
               reverses="duplicate")


def _payments_to_suppliers(steps: list[Step]) -> list[Step]:
    """Alpha pays Gamma's fabric and Omega's fees on the 10th for everything since the last payment.

    The settle-up at the three-month review pays whatever is open on its day,
    so the next monthly payment only covers what came after it.
    """
    payments = []
    for partner, what in (("Gamma", "fabric deliveries"), ("Omega", "distribution fees")):
        owed = sorted((s.day, parse_amount(s.raw["amount"], CURRENCY)) for s in steps
                      if s.raw.get("partner") == partner and s.tag is None and s.reverses is None)
        paid_until = date(2020, 3, 31)
        for month in range(6, 13):
            pay_day = _workdays(month, 10)[0]
            cutoff = date(2020, month, 1)
            due = sum(cents for day, cents in owed if paid_until < day < cutoff)
            if due:
                payments.append(_payment(pay_day, "Alpha", partner, due,
                                         f"Bank transfer to {partner}: {what} up to "
                                         f"{date.fromordinal(cutoff.toordinal() - 1).strftime('%d %B')}",
                                         f"SEPA-{partner[0]}-{month:02d}"))
            paid_until = REVIEW_SETTLE_UP if month == 7 else date.fromordinal(cutoff.toordinal() - 1)
    return payments


# --- The value lifecycle: charter, targets, measurements and the reviews ---------------------------------

OBJECTIVE = ("Turn two idle production sites into a certified supply of surgical masks for the region's hospitals "
             "within six weeks, reach 2,000,000 masks a month, and sell at cost plus a margin that repays "
             "Beta's machinery within the term.")
COMMITMENTS = {
    "Alpha": ("Its half of the returns; a certified product line it can keep selling after the emergency.",
              "Cutting and rewinding of the fabric, the CE certification file and conformity tests, sales and "
              "customer contracts."),
    "Beta": ("Its half of the returns; its machinery paid back within the term.",
             "Two mask-making lines bought for the alliance, the production flows, two shifts of operators."),
    "Gamma": ("Steady orders for its non-woven fabric, paid monthly; access to the health-care market.",
              "Multi-layer SMS fabric rolls at agreed prices, priority over other customers."),
    "Omega": ("Distribution fees for each delivery; new customers among care homes.",
              "Medical-device distribution to hospitals and care homes, its warehouse and its vans."),
}
#: (name, unit, period, direction, combine, value, who measures)
TARGETS = (
    ("Masks produced", "masks", "month", "at_least", "sum", "2000000", "beta"),
    ("Masks delivered to hospitals and care homes", "masks", "month", "at_least", "sum", "1500000", "omega"),
    ("Sales receipts", "EUR", "quarter", "at_least", "sum", "1500000", "alpha"),
    ("Cost per mask", "EUR per mask", "month", "at_most", "latest", "0.12", "alpha"),
)
#: Cost per mask as Alpha worked it out each month: high while the lines ramp up.
COST_PER_MASK = {5: "0.21", 6: "0.16", 7: "0.14", 8: "0.15", 9: "0.12", 10: "0.11", 11: "0.10", 12: "0.10"}
THREE_MONTHS, NINE_MONTHS = date(2020, 7, 1), date(2021, 1, 1)
#: (partner, satisfaction, fairness, commitment, trust, challenges, comments) at each review.
ASSESSMENTS = {
    THREE_MONTHS: (
        ("Alpha", 4, 4, 5, 4, ["delays"], "The fabric came three weeks late; the lines started on 18 May."),
        ("Beta", 3, 3, 4, 4, ["delays", "unknown_costs_or_prices"],
         "Nobody knew the price of meltblown fabric at the start; our machinery is not paid back yet."),
        ("Gamma", 4, 4, 4, 4, [], "Orders are steady and paid on time."),
        ("Omega", 4, 3, 4, 3, ["dependency"], "Every delivery waits for Alpha's certification release."),
    ),
    NINE_MONTHS: (
        ("Alpha", 3, 3, 4, 4, ["missing_incentives", "value_distribution"],
         "The national incentive never came; prices halved since May."),
        ("Beta", 2, 2, 4, 3, ["dependency", "value_distribution"],
         "We bear the machinery risk but Alpha collects every sale; the 50/50 split of returns should weigh it."),
        ("Gamma", 4, 3, 4, 4, ["dependency"], "Almost all our fabric goes to this alliance now."),
        ("Omega", 3, 3, 3, 3, ["value_distribution"], "Fees per delivery no longer cover the fuel."),
    ),
}


def _lifecycle(session: Session, alliance: Alliance, members: dict[str, Membership],
               partners: dict[str, Partner]) -> None:
    from ledger.services import charter, checkpoints

    coordinator = members["coordinator"]
    user = coordinator.user
    start = date(2020, 4, 6)
    version = charter.save_charter(session, user, coordinator, {
        "effective_from": "2020-04-01", "cause": alliance.cause, "objective": OBJECTIVE,
        "term_end": alliance.term_end.isoformat(),
        "commitments": [{"partner_id": partners[name].id, "expects": expects, "brings": brings}
                        for name, (expects, brings) in COMMITMENTS.items()],
        "targets": [{"name": name, "unit": unit, "period": period, "direction": direction, "combine": combine,
                     "value": value} for name, unit, period, direction, combine, value, _ in TARGETS],
        "change_note": "The charter as the partners agreed it at the founding meeting.",
    }, start)
    target_ids = {t.target.name: t.target_id for t in version.targets}
    for day in (THREE_MONTHS, NINE_MONTHS):
        checkpoints.schedule_checkpoint(session, user, coordinator, {"due_date": day.isoformat()}, start)
    _measure(session, members, partners, target_ids)
    _review(session, alliance, members, THREE_MONTHS, {"board-alpha": ("renew", "Production is ramping up as "
            "planned; the delays were the suppliers', not the alliance's."), "board-beta": ("renew", "Keep going; "
            "the extra quarter gives the machinery time to pay back."), "steering": ("renew", "Hospitals depend "
            "on these masks.")})
    first = session.scalar(select(Checkpoint).where(Checkpoint.alliance_id == alliance.id,
                                                    Checkpoint.due_date == THREE_MONTHS))
    checkpoints.decide(session, user, coordinator, first, {
        "decision": "renew", "new_term_end": "2022-06-30",
        "rationale": "Renewed unanimously; the term is extended by a quarter to make up for the late start of the "
                     "lines (fabric delays)."}, date(2020, 7, 3))
    checkpoints.schedule_checkpoint(session, user, coordinator, {"due_date": "2022-06-30"}, date(2020, 7, 3))
    _review(session, alliance, members, NINE_MONTHS, {
        "board-alpha": ("renew", "The alliance works; volumes are at target."),
        "board-beta": ("renegotiate", "The split of returns must weigh Beta's machinery risk and Alpha's "
                                      "control of sales.")})


def _measure(session: Session, members: dict[str, Membership], partners: dict[str, Partner],
             target_ids: dict[str, int]) -> None:
    from ledger.services import measurements

    who = {name: key for name, *_rest, key in TARGETS}
    receipts: dict[int, int] = {}
    for step in plan():
        if step.raw.get("kind") == "revenue" and step.raw.get("category") == "sales":
            quarter = (step.day.month - 1) // 3
            receipts[quarter] = receipts.get(quarter, 0) + parse_amount(step.raw["amount"], CURRENCY)
    figures: list[tuple[str, str, str]] = []  # (target, period, value)
    for month, made in PRODUCED.items():
        period = f"2020-{month:02d}"
        figures.append(("Masks produced", period, str(made)))
        figures.append(("Masks delivered to hospitals and care homes", period, str(made * 96 // 100)))
        figures.append(("Cost per mask", period, COST_PER_MASK[month]))
    for quarter, cents in sorted(receipts.items()):
        figures.append(("Sales receipts", f"2020-{quarter * 3 + 1:02d}-01", _eur(cents)))
    for target, period, value in figures:
        membership = members[who[target]]
        measurements.record_measurement(session, membership.user, membership, {
            "target_id": target_ids[target], "partner_id": membership.partner_id, "period": period,
            "value": value}, date(2021, 1, 10))


def _review(session: Session, alliance: Alliance, members: dict[str, Membership], due: date,
            votes: dict[str, tuple[str, str]]) -> None:
    from ledger.services import checkpoints

    checkpoints.open_due(session, alliance, due)
    checkpoint = session.scalar(select(Checkpoint).where(Checkpoint.alliance_id == alliance.id,
                                                         Checkpoint.due_date == due))
    recorders = {name: members[key] for name, key in RECORDER.items()}
    for name, satisfaction, fairness, commitment, trust, challenges, comments in ASSESSMENTS[due]:
        membership = recorders[name]
        checkpoints.assess(session, membership.user, membership, checkpoint, {
            "satisfaction": satisfaction, "fairness": fairness, "commitment": commitment, "trust": trust,
            "challenges": challenges, "comments": comments})
    for key, (choice, reason) in votes.items():
        membership = members[key]
        checkpoints.vote(session, membership.user, membership, checkpoint, {"choice": choice, "reason": reason})
