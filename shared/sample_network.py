"""A realistic sample network, generated with a fixed seed, that tells the design's story.

Maria Lindqvist, a sales and marketing manager, moved from Gothenburg to Stockholm a few
months ago. Her network is real but scattered: former colleagues from two Gothenburg
employers, classmates from business school, customers in retail and fintech, a few
agencies and suppliers. She wants to reach CFOs and CIOs in fintech and retail in
Stockholm. Upcoming Stockholm events (chamber of commerce mingles, seminars, network
breakfasts) have attendee lists with some of her contacts and people they know.

``scale`` multiplies people, meetings and events, for benchmarks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared import topics
from shared.messages import Envelope, wrap
from shared.messages.inputs import (
    AttendanceRecorded,
    Attendee,
    ContactUpserted,
    EventAnnounced,
    FavourKind,
    FavourRecorded,
    GoalsSet,
    MeetingRecorded,
)

FIRST_NAMES = (
    "Anna",
    "Erik",
    "Johan",
    "Sara",
    "Karin",
    "Lars",
    "Emma",
    "Anders",
    "Maja",
    "Oskar",
    "Elin",
    "Per",
    "Linnea",
    "Magnus",
    "Ida",
    "Fredrik",
    "Hanna",
    "Mikael",
    "Sofia",
    "Niklas",
    "Ebba",
    "Henrik",
    "Klara",
    "Gustav",
    "Frida",
    "Jonas",
    "Amira",
    "Ali",
    "Mei",
    "Daniel",
    "Lena",
    "Viktor",
    "Nora",
    "Tobias",
    "Alva",
    "Pontus",
    "Leila",
    "Ola",
    "Astrid",
    "Samir",
)
LAST_NAMES = (
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Bengtsson",
    "Berg",
    "Lindberg",
    "Lindström",
    "Ek",
    "Holm",
    "Sandberg",
    "Forsberg",
    "Åberg",
    "Wallin",
    "Engström",
    "Hedlund",
    "Nyström",
    "Sjöberg",
    "Lund",
    "Dahl",
    "Öberg",
    "Björk",
    "Falk",
    "Strand",
    "Ström",
)

# (company, industry, city, domain)
GOTHENBURG_EMPLOYERS = (
    ("Västkust Logistik AB", "logistics", "Göteborg", "vastkust.example"),
    ("Göta Retail Group AB", "retail", "Göteborg", "gotaretail.example"),
)
CUSTOMERS = (
    ("Kvarnby Handel AB", "retail", "Stockholm", "kvarnby.example"),
    ("Nordbank AB", "fintech", "Stockholm", "nordbank.example"),
    ("Betalo Payments AB", "fintech", "Stockholm", "betalo.example"),
    ("Skärgård Mode AB", "retail", "Stockholm", "skargardmode.example"),
    ("Hisingen Livs AB", "retail", "Göteborg", "hisingenlivs.example"),
    ("Kustfinans AB", "fintech", "Göteborg", "kustfinans.example"),
    ("Mälaren Elektronik AB", "retail", "Västerås", "malarenel.example"),
    ("Lönna Försäkring AB", "insurance", "Stockholm", "lonna.example"),
)
OTHERS = (
    ("Bryggan Kommunikation AB", "marketing", "Göteborg", "bryggan.example"),
    ("Norrsken Digital AB", "it", "Stockholm", "norrsken-digital.example"),
    ("Fjord Analytics AS", "it", "Oslo", "fjordanalytics.example"),
    ("Öresund Consulting AB", "consulting", "Malmö", "oresundconsult.example"),
)
# Stockholm companies where people Maria does not know yet work.
TARGET_COMPANIES = (
    ("Stadsbanken AB", "fintech", "Stockholm", "stadsbanken.example"),
    ("Klarmynt AB", "fintech", "Stockholm", "klarmynt.example"),
    ("Söderhallen Retail AB", "retail", "Stockholm", "soderhallen.example"),
    ("Kvarnby Handel AB", "retail", "Stockholm", "kvarnby.example"),
    ("Nordbank AB", "fintech", "Stockholm", "nordbank.example"),
    ("Vasa Betal AB", "fintech", "Stockholm", "vasabetal.example"),
    ("Hötorget Varuhus AB", "retail", "Stockholm", "hotorget.example"),
)
STAFF_TITLES = (
    "Key Account Manager",
    "Marknadschef",
    "Försäljningschef",
    "Controller",
    "Inköpschef",
    "Projektledare",
    "Säljare",
    "Business Developer",
    "Ekonomichef",
    "IT-chef",
    "CFO",
    "CIO",
    "Head of Marketing",
    "Account Manager",
    "VD",
    "Konsult",
)
TARGET_TITLES = ("CFO", "CIO", "Ekonomichef", "IT-chef", "Chief Financial Officer", "Head of IT")

EVENT_SERIES = (
    (
        "Stockholm Chamber of Commerce After Work",
        "Stockholms Handelskammare",
        ("networking", "business"),
    ),
    ("Fintech Breakfast Stockholm", "Stockholm Fintech Network", ("fintech", "payments")),
    ("Retail Leaders Forum", "Svensk Handel", ("retail", "e-commerce")),
    ("CFO Network Stockholm", "CFO Network", ("finance", "fintech")),
    ("CIO Summit Nordic", "CIO Sweden", ("it", "digitalisation")),
    ("Nordic Payments Seminar", "Payments Nordic", ("payments", "fintech")),
    ("E-commerce Meetup", "Ehandel Stockholm", ("e-commerce", "retail")),
    ("Women in Business Mingle", "Stockholm Business Women", ("networking", "leadership")),
    ("Sales & Marketing Club", "SMC Stockholm", ("marketing", "sales")),
    ("Startup Pitch Night", "Stockholm Startup Hub", ("startups", "it")),
)
# Upcoming events start 3 to 60 days ahead; the history reaches 30 to 730 days back.
UPCOMING_DAYS = (3, 60)
HISTORY_DAYS = (30, 730)
STOCKHOLM_VENUES = (
    "Stockholms Handelskammare, Västra Trädgårdsgatan",
    "Epicenter, Mäster Samuelsgatan",
    "Norra Latin",
    "Grand Hôtel",
    "Münchenbryggeriet",
    "Sergel Hub",
)


@dataclass
class SamplePerson:
    name: str
    email: str
    company: str
    industry: str
    city: str
    title: str
    group: str
    cadence_days: float = 0.0
    initiative: float = 0.5
    phone: str | None = None
    is_customer: bool = False


@dataclass
class SampleNetwork:
    owner_id: str
    owner_email: str
    now: datetime
    messages: list[tuple[str, Envelope[Any]]] = field(default_factory=list)
    contacts: list[SamplePerson] = field(default_factory=list)
    strangers: list[SamplePerson] = field(default_factory=list)

    def count(self, topic: str) -> int:
        return sum(1 for t, _ in self.messages if t == topic)


def _slug(text: str) -> str:
    table = str.maketrans("åäöéÅÄÖÉ", "aaoeaaoe")
    return "".join(c for c in text.translate(table).lower() if c.isalnum())


def _phone(rng: random.Random) -> str:
    digits = [rng.randint(0, 9), rng.randint(100, 999), rng.randint(10, 99), rng.randint(10, 99)]
    return "+46 7{} {} {} {}".format(*digits)


def _people(
    rng: random.Random,
    count: int,
    companies: Any,
    group: str,
    used: set[str],
    titles: tuple[str, ...] = STAFF_TITLES,
) -> list[SamplePerson]:
    out: list[SamplePerson] = []
    while len(out) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company, industry, city, domain = rng.choice(companies)
        email = f"{_slug(first)}.{_slug(last)}@{domain}"
        if email in used:
            continue
        used.add(email)
        out.append(
            SamplePerson(
                name=f"{first} {last}",
                email=email,
                company=company,
                industry=industry,
                city=city,
                title=rng.choice(titles),
                group=group,
                phone=_phone(rng),
            )
        )
    return out


def generate(
    *,
    seed: int = 7,
    now: datetime | None = None,
    owner_id: str = "maria.lindqvist",
    scale: float = 1.0,
) -> SampleNetwork:
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    owner_email = "maria.lindqvist@example.com"
    moved = now - timedelta(days=150)
    net = SampleNetwork(owner_id=owner_id, owner_email=owner_email, now=now)
    used: set[str] = {owner_email}

    def n(base: int) -> int:
        return max(1, round(base * scale))

    colleagues = _people(rng, n(45), GOTHENBURG_EMPLOYERS, "colleague", used)
    classmates = _people(rng, n(25), GOTHENBURG_EMPLOYERS + CUSTOMERS + OTHERS, "classmate", used)
    customers = _people(rng, n(50), CUSTOMERS, "customer", used)
    others = _people(rng, n(30), OTHERS, "other", used)
    for p in customers:
        p.is_customer = True
    contacts = colleagues + classmates + customers + others
    for p in contacts:
        # How often they used to meet: a few close ties, many occasional ones.
        p.cadence_days = rng.choice((21, 30, 30, 45, 60, 90, 90, 120, 180, 240))
        p.initiative = rng.uniform(0.2, 0.9)
    strangers = _people(rng, n(60), TARGET_COMPANIES, "second-degree", used, TARGET_TITLES)
    net.contacts, net.strangers = contacts, strangers

    def add(topic: str, data: Any, at: datetime, source: str) -> None:
        net.messages.append((topic, wrap(data, owner_id=owner_id, source=source, time=at)))

    add(
        topics.GOALS,
        GoalsSet(
            full_name="Maria Lindqvist",
            emails=[owner_email],
            home_city="Stockholm",
            country="SE",
            target_industries=["fintech", "retail"],
            target_functions=["CFO", "CIO"],
            target_cities=["Stockholm"],
            interests=["payments", "e-commerce", "fintech", "retail"],
        ),
        moved,  # she set her goals when she moved
        "app:onboarding",
    )

    for index, p in enumerate(contacts):
        source = ("crm:hubspot", "import:vcard", "import:linkedin")[index % 3]
        add(
            topics.CONTACTS,
            ContactUpserted(
                external_id=f"{source.split(':')[1]}-{index}",
                full_name=p.name,
                emails=[p.email],
                phones=[p.phone] if p.phone and source != "import:linkedin" else [],
                company=p.company,
                title=p.title,
                industry=p.industry,
                city=p.city,
                country="NO" if p.city == "Oslo" else "SE",
                is_customer=p.is_customer,
            ),
            now - timedelta(days=rng.randint(1, 60)),
            source,
        )

    # Meetings over three years, at each contact's own rhythm. Gothenburg ties mostly
    # lapsed when Maria moved; some contacts stopped meeting her long ago.
    start = now - timedelta(days=3 * 365)
    for index, p in enumerate(contacts):
        if p.group == "other" and rng.random() < 0.5:
            continue  # LinkedIn-style connections never met
        stops = now
        if p.city == "Göteborg" and rng.random() < 0.7:
            stops = moved + timedelta(days=rng.randint(-60, 20))
        elif rng.random() < 0.25:
            stops = now - timedelta(days=rng.randint(60, 500))
        at = start + timedelta(days=rng.uniform(0, p.cadence_days))
        k = 0
        while at < stops:
            owner_leads = rng.random() > p.initiative
            add(
                topics.MEETINGS,
                MeetingRecorded(
                    external_id=f"cal-{index}-{k}@calendar.example",
                    title=rng.choice(
                        ("Lunch", "Fika", "Coffee", "Catch-up", "Quarterly review", "Dinner")
                    ),
                    starts_at=at.replace(hour=rng.choice((8, 9, 11, 12, 15))),
                    ends_at=at.replace(hour=rng.choice((8, 9, 11, 12, 15))) + timedelta(hours=1),
                    organizer_email=owner_email if owner_leads else p.email,
                    attendees=[
                        Attendee(email=owner_email, name="Maria Lindqvist", response="accepted"),
                        Attendee(email=p.email, name=p.name, response="accepted"),
                    ],
                ),
                at,
                "import:ics",
            )
            k += 1
            at += timedelta(days=max(3.0, rng.gauss(p.cadence_days, p.cadence_days * 0.25)))
        if rng.random() < 0.08:  # a meeting already planned
            add(
                topics.MEETINGS,
                MeetingRecorded(
                    external_id=f"cal-{index}-planned@calendar.example",
                    title="Lunch",
                    starts_at=now + timedelta(days=rng.randint(2, 20)),
                    organizer_email=owner_email,
                    attendees=[
                        Attendee(email=owner_email, response="accepted"),
                        Attendee(email=p.email, name=p.name, response="accepted"),
                    ],
                ),
                now,
                "import:ics",
            )

    # Events: past ones (co-attendance shows who knows whom) and ~20 upcoming in Stockholm.
    events = _past_events(rng, now, add, count=n(12), name="past", days_ago=(10, 360))
    upcoming = n(20)
    for k in range(upcoming):
        title, organizer, subjects = EVENT_SERIES[k % len(EVENT_SERIES)]
        when = now + timedelta(days=rng.randint(*UPCOMING_DAYS))
        events.append((f"upcoming-{k}", when, subjects))
        add(
            topics.EVENTS,
            EventAnnounced(
                external_id=f"upcoming-{k}",
                title=title,
                starts_at=when.replace(hour=rng.choice((7, 17, 18))),
                city="Stockholm",
                venue=rng.choice(STOCKHOLM_VENUES),
                topics=list(subjects),
                series=title,
                organizer=organizer,
                url=f"https://events.example/{_slug(title)}-{k}",
            ),
            now - timedelta(days=rng.randint(1, 20)),
            "import:eventbrite",
        )

    # How people behave (a stream of its own, so the network above stays the same): the
    # regularities the recommender relies on, as studies of networks report them.
    behave = random.Random(seed * 7919 + 1)
    interests = {"payments", "e-commerce", "fintech", "retail"}
    stockholm_contacts = [p for p in contacts if p.city == "Stockholm"]
    # Two years of events before those: a history to learn attendance from.
    events += _past_events(behave, now, add, count=n(30), name="earlier", days_ago=HISTORY_DAYS)
    # The rest of those two years' calendar, as many events a month as are announced now, so
    # that at any past moment there are as many to choose from as today. Of those, only her
    # contacts' attendance is known (as an event page shows which of your connections go).
    # A stream of its own, so the favours and introductions drawn after it stay the same.
    calendar = random.Random(seed * 7919 + 2)
    per_day = upcoming / (UPCOMING_DAYS[1] - UPCOMING_DAYS[0])
    extra = max(0, round(per_day * (HISTORY_DAYS[1] - HISTORY_DAYS[0])) - n(30))
    events += _past_events(calendar, now, add, count=extra, name="calendar", days_ago=HISTORY_DAYS)
    # Per kind of event: its draws, its registration times and the strangers who may attend.
    streams = {"earlier": (behave, behave, strangers), "calendar": (calendar, calendar, [])}
    # Stranger -> the contacts seen at the same events (the first time each).
    seen_with: dict[str, dict[str, datetime]] = {}
    for external_id, when, event_topics in events:
        draw, trickle, pool = streams.get(external_id.split("-", 1)[0], (rng, behave, strangers))
        relevant = [s for s in pool if s.industry in event_topics or draw.random() < 0.15]
        attendees = draw.sample(
            stockholm_contacts, min(len(stockholm_contacts), draw.randint(0, 6))
        )
        attendees += draw.sample(relevant, min(len(relevant), draw.randint(1, 10)))
        status = "attended" if when < now else "registered"
        # Social influence and interest: more likely to go where close contacts go, on
        # topics she follows (Zhang et al., event-based social networks).
        friends = sum(1 for a in attendees if a.cadence_days and a.cadence_days <= 45)
        goes = min(0.05 + 0.15 * friends + 0.3 * bool(interests & set(event_topics)), 0.9)
        known = [a for a in attendees if a.cadence_days]
        for person in attendees:
            if when < now and not person.cadence_days:
                mutual = seen_with.setdefault(person.email, {})
                for contact in known:
                    mutual[contact.email] = min(mutual.get(contact.email, when), when)
            add(
                topics.ATTENDANCE,
                AttendanceRecorded(
                    event_external_id=external_id,
                    email=person.email,
                    full_name=person.name,
                    company=person.company,
                    title=person.title,
                    status=status,
                ),
                when - timedelta(days=trickle.uniform(1, 21)),  # registrations trickle in
                "import:attendees",
            )
        if when < now and draw.random() < goes:
            add(
                topics.ATTENDANCE,
                AttendanceRecorded(
                    event_external_id=external_id,
                    email=owner_email,
                    full_name="Maria Lindqvist",
                    status="attended",
                ),
                when,
                "import:attendees",
            )

    # Favours: a few contacts keep sending referrals and help; Maria has returned some.
    generous = rng.sample(contacts, min(len(contacts), n(6)))
    for k, p in enumerate(generous):
        for j in range(rng.randint(1, 3)):
            at = now - timedelta(days=rng.randint(20, 400))
            _favour(
                add,
                f"fav-r-{k}-{j}",
                p.email,
                "received",
                rng.choice(
                    (
                        FavourKind.REFERRAL,
                        FavourKind.REFERRAL,
                        FavourKind.INTRODUCTION,
                        FavourKind.HELP,
                    )
                ),
                at,
            )
    for k, p in enumerate(rng.sample(contacts, min(len(contacts), n(5)))):
        at = now - timedelta(days=rng.randint(20, 400))
        _favour(
            add,
            f"fav-g-{k}",
            p.email,
            "given",
            FavourKind.HELP,
            at,
        )
    _reciprocity(behave, now, contacts, n(10), add)
    _introductions(behave, now, owner_email, contacts, strangers, seen_with, add)
    return net


Add = Any  # the generator's add(topic, data, at, source)


def _favour(
    add: Add, external_id: str, email: str, direction: str, kind: FavourKind, at: datetime
) -> None:
    """A favour as a CRM records it."""
    add(
        topics.FAVOURS,
        FavourRecorded(
            external_id=external_id,
            person_email=email,
            direction=direction,
            kind=kind,
            occurred_at=at,
        ),
        at,
        "crm:hubspot",
    )


def _past_events(
    rng: random.Random,
    now: datetime,
    add: Add,
    *,
    count: int,
    name: str,
    days_ago: tuple[int, int],
) -> list[tuple[str, datetime, tuple[str, ...]]]:
    """Events in Stockholm that took place ``days_ago`` days back: (id, start, topics)."""
    out: list[tuple[str, datetime, tuple[str, ...]]] = []
    for k in range(count):
        title, organizer, subjects = rng.choice(EVENT_SERIES)
        when = now - timedelta(days=rng.randint(*days_ago))
        out.append((f"{name}-{k}", when, subjects))
        add(
            topics.EVENTS,
            EventAnnounced(
                external_id=f"{name}-{k}",
                title=title,
                starts_at=when.replace(hour=17),
                city="Stockholm",
                venue=rng.choice(STOCKHOLM_VENUES),
                topics=list(subjects),
                series=title,
                organizer=organizer,
            ),
            when - timedelta(days=30),
            "import:meetup",
        )
    return out


def _reciprocity(
    rng: random.Random, now: datetime, contacts: list[SamplePerson], count: int, add: Add
) -> None:
    """More contacts who help; Maria returns most favours within a few months (the norm of
    reciprocity: Gouldner 1960), a few she never does."""
    for k, p in enumerate(rng.sample(contacts, min(len(contacts), count))):
        for j in range(rng.randint(1, 3)):
            received = now - timedelta(days=rng.randint(15, 700))
            _favour(
                add,
                f"fav-r2-{k}-{j}",
                p.email,
                "received",
                rng.choice((FavourKind.REFERRAL, FavourKind.INTRODUCTION)),
                received,
            )
            returned = received + timedelta(days=rng.expovariate(1 / 45))
            if rng.random() < 0.7 and returned < now:
                _favour(
                    add,
                    f"fav-g2-{k}-{j}",
                    p.email,
                    "given",
                    FavourKind.HELP,
                    returned,
                )


def _introductions(
    rng: random.Random,
    now: datetime,
    owner_email: str,
    contacts: list[SamplePerson],
    strangers: list[SamplePerson],
    seen_with: dict[str, dict[str, datetime]],
    add: Add,
) -> None:
    """First meetings with people she did not know, through mutual contacts (colleagues of
    theirs, or contacts seen at the same events): the more mutual contacts, the likelier
    (triadic closure: Kossinets and Watts 2006). The closest of them comes along to
    introduce."""
    by_email = {c.email: c for c in contacts}
    start = now - timedelta(days=700)
    for index, person in enumerate(strangers):
        mutual = {c.email: start for c in contacts if c.company == person.company}
        mutual |= seen_with.get(person.email, {})
        if not mutual:
            continue
        # A steady chance per day, proportional to the mutual contacts: whoever has not
        # been met yet is as likely as ever to be met tomorrow.
        since = max(min(mutual.values()), start)
        first = since + timedelta(days=rng.expovariate(len(mutual) / 1500))
        if first >= now:
            continue
        introducer = min((by_email[e] for e in mutual), key=lambda c: c.cadence_days)
        add(
            topics.MEETINGS,
            MeetingRecorded(
                external_id=f"intro-{index}@calendar.example",
                title=f"Introduction: {person.name}",
                starts_at=first.replace(hour=12),
                ends_at=first.replace(hour=13),
                organizer_email=introducer.email,
                attendees=[
                    Attendee(email=owner_email, name="Maria Lindqvist", response="accepted"),
                    Attendee(email=person.email, name=person.name, response="accepted"),
                    Attendee(email=introducer.email, name=introducer.name, response="accepted"),
                ],
            ),
            first,
            "import:ics",
        )
