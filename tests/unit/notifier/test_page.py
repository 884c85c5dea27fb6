"""The owner's page without a browser: sign-in, sessions, CSRF, answers, forms, scoping.
Starlette's test client on the notifier's page app, its store in SQLite and what it
publishes recorded. The browser tests (tests/e2e/test_owner_page.py) run it in Chromium."""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.trace_meeting import consume, runtime
from services.notifier import main as notifier_main
from services.notifier.models import TABLES
from services.notifier.page.app import OwnerPage
from services.notifier.page.sessions import COOKIE, Sessions, SignInRefused
from services.notifier.settings import NotifierSettings
from services.page_link import sign_in_link
from shared import topics
from shared.messages import GoalsSet, NetworkSummary, RecommendationsMade, wrap
from shared.messages.recommendations import RankedItem, SuggestionKind
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork

with warnings.catch_warnings():
    # Starlette's test client asks for httpx2 from 1.x on; httpx still works for it here.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

SECRET = "a-link-secret-for-the-page-tests-0123456789"
MARIA, OLOF = "maria", "olof"


def ranked(owner: str, names: list[str]) -> RecommendationsMade:
    return RecommendationsMade(
        model_version="prior-test",
        generated_at=datetime.now(UTC),
        items=[
            RankedItem(
                suggestion_id=f"{owner}-s{i}",
                kind=SuggestionKind.RECONNECT,
                subject_id=f"{owner}-p{i}",
                subject_name=name,
                score=0.9 - i / 10,
                rank=i + 1,
                reasons=[f"Last met {40 + i} days ago."],
            )
            for i, name in enumerate(names)
        ],
        network=NetworkSummary(
            contacts=len(names),
            ties={"strong": 1, "good": 0, "light": 1, "dormant": 0},
            industries={"fintech": 2},
            functions={"CFO": 1},
            seniority={"senior": 2},
            cities={"Stockholm": 2},
            strong_by_city={"Stockholm": 1},
            targets={"CFOs in Oslo": 0},
            gaps=["0 CFOs in Oslo"],
        ),
    )


@pytest.fixture
def notifier(tmp_path: Path) -> Iterator[tuple[ServiceRuntime[Any], NotifierSettings]]:
    settings = NotifierSettings(
        data_dir=tmp_path,
        link_secret=SECRET,
        public_url="http://testserver",
        ingest_url="http://127.0.0.1:9",  # nothing listens: the importer is unreachable
    )
    service = runtime("notifier", settings, TABLES, UnitOfWork)
    notifier_main.router(service, settings)
    goals = GoalsSet(full_name="Maria Lindqvist", emails=["maria@example.com"])
    asyncio.run(
        consume(
            service,
            [
                (topics.GOALS, wrap(goals, owner_id=MARIA, source="cli")),
                (
                    topics.RECOMMENDATIONS,
                    wrap(
                        ranked(MARIA, ["Anna Berg", "Erik <b>Ek</b>"]), owner_id=MARIA, source="t"
                    ),
                ),
                (
                    topics.RECOMMENDATIONS,
                    wrap(ranked(OLOF, ["Sara Secret"]), owner_id=OLOF, source="t"),
                ),
            ],
        )
    )
    service.publisher.sent.clear()
    yield service, settings
    service.database.close()


def sign_in(client: TestClient, link: str, **headers: str) -> Any:
    """Open the link (a page with a button), then press the button: the answer."""
    path = re.sub(r"^https?://[^/]+", "", link)
    shown = client.get(path)
    assert shown.status_code == 200, shown.text
    token = re.search(r'name="t" value="([^"]+)"', shown.text)
    assert token, shown.text
    return client.post(
        "/me/sign-in", data={"t": token.group(1)}, headers=headers, follow_redirects=False
    )


def signed_in(notifier: tuple[ServiceRuntime[Any], NotifierSettings], owner: str) -> TestClient:
    service, settings = notifier
    page = OwnerPage(service, settings, SECRET)
    client = TestClient(page.app(), base_url="http://testserver")
    answer = sign_in(client, sign_in_link(settings, owner))
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(client: TestClient) -> str:
    page = client.get("/me/")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def test_a_sign_in_link_becomes_a_session_cookie_that_scripts_cannot_read(notifier) -> None:
    service, settings = notifier
    page = OwnerPage(service, settings, SECRET)
    client = TestClient(page.app(), base_url="http://testserver")
    answer = sign_in(client, sign_in_link(settings, MARIA))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/me/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/me" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the HTTPS test
    home = client.get("/me/")
    assert home.status_code == 200
    assert "Your week, Maria Lindqvist" in home.text
    assert "Get back in touch with Anna Berg" in home.text
    assert "Sara Secret" not in home.text
    assert home.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]


def test_a_sign_in_link_works_once_and_opening_it_uses_nothing(notifier) -> None:
    service, settings = notifier
    page = OwnerPage(service, settings, SECRET)
    client = TestClient(page.app(), base_url="http://testserver")
    link = sign_in_link(settings, MARIA)
    path = link.removeprefix("http://testserver")
    # A mail scanner fetches the link: it sees a button and signs no one in.
    scanned = client.get(path)
    assert scanned.status_code == 200
    assert COOKIE not in scanned.headers.get("set-cookie", "")
    assert sign_in(client, link).status_code == 303
    again = TestClient(page.app(), base_url="http://testserver")
    assert again.get(path).status_code == 403
    token = path.split("t=", 1)[1]
    replayed = again.post("/me/sign-in", data={"t": token}, follow_redirects=False)
    assert replayed.status_code == 403
    assert "already used" in replayed.text
    assert COOKIE not in replayed.headers.get("set-cookie", "")


def test_a_sign_in_posted_from_another_site_is_refused(notifier) -> None:
    service, settings = notifier
    client = TestClient(OwnerPage(service, settings, SECRET).app(), base_url="http://testserver")
    answer = sign_in(client, sign_in_link(settings, MARIA), origin="https://evil.example")
    assert answer.status_code == 403
    assert COOKIE not in answer.headers.get("set-cookie", "")


def test_a_forged_or_expired_sign_in_token_is_refused() -> None:
    sessions = Sessions(SECRET, sign_in_seconds=-1, session_seconds=60)
    with pytest.raises(SignInRefused, match="expired"):
        sessions.owner_of_sign_in(sessions.sign_in_token(MARIA))
    other = Sessions(
        "another-secret-another-secret-another", sign_in_seconds=60, session_seconds=60
    )
    with pytest.raises(SignInRefused, match="not valid"):
        sessions.owner_of_sign_in(other.sign_in_token(MARIA))
    # A new link secret ends every session made with the old one.
    assert other.read(sessions.start(MARIA)) is None
    assert (
        Sessions(SECRET, sign_in_seconds=60, session_seconds=-1).read(sessions.start(MARIA)) is None
    )


def test_on_https_the_session_cookie_is_secure(notifier) -> None:
    service, settings = notifier
    settings = settings.model_copy(update={"public_url": "https://springboard.example.com"})
    page = OwnerPage(service, settings, SECRET)
    client = TestClient(page.app(), base_url="http://testserver")
    answer = sign_in(client, sign_in_link(settings, MARIA))
    assert "Secure" in answer.headers["set-cookie"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/me/"),
        ("GET", "/me/map"),
        ("GET", "/me/suggestions"),
        ("POST", "/me/goals"),
        ("POST", "/me/preferences"),
        ("POST", "/me/import"),
        ("POST", "/me/suggestions/maria-s0"),
    ],
)
def test_without_a_session_nothing_is_shown_or_taken(notifier, method: str, path: str) -> None:
    service, settings = notifier
    client = TestClient(OwnerPage(service, settings, SECRET).app(), base_url="http://testserver")
    answer = client.request(method, path, data={"action": "accepted"})
    assert answer.status_code == 401
    assert "Anna Berg" not in answer.text
    assert not service.publisher.sent


def test_accepting_publishes_feedback_and_the_list_shows_the_answer(notifier) -> None:
    service, _ = notifier
    client = signed_in(notifier, MARIA)
    csrf = csrf_of(client)
    answer = client.post(
        "/me/suggestions/maria-s0",
        data={"action": "accepted", "csrf": csrf},
        headers={"x-requested-with": "fetch"},
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="suggestions"')
    assert 'data-answer="accepted"' in answer.text
    [(topic, sent)] = service.publisher.sent
    assert topic == topics.FEEDBACK
    assert (sent.owner_id, sent.data.suggestion_id, sent.data.action) == (
        MARIA,
        "maria-s0",
        "accepted",
    )
    # Without JavaScript: the form posts and the browser comes back to the page.
    dismissed = client.post(
        "/me/suggestions/maria-s1",
        data={"action": "dismissed", "csrf": csrf},
        follow_redirects=False,
    )
    assert dismissed.status_code == 303
    assert 'data-answer="dismissed"' in client.get("/me/").text


def test_a_post_without_the_session_csrf_token_or_from_another_site_is_refused(notifier) -> None:
    service, _ = notifier
    client = signed_in(notifier, MARIA)
    csrf = csrf_of(client)
    assert client.post("/me/suggestions/maria-s0", data={"action": "accepted"}).status_code == 403
    forged = client.post("/me/suggestions/maria-s0", data={"action": "accepted", "csrf": "guess"})
    assert forged.status_code == 403
    elsewhere = client.post(
        "/me/suggestions/maria-s0",
        data={"action": "accepted", "csrf": csrf},
        headers={"origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    assert not service.publisher.sent


def test_one_owners_session_reaches_nothing_of_another_owner(notifier) -> None:
    service, _ = notifier
    client = signed_in(notifier, MARIA)
    csrf = csrf_of(client)
    answer = client.post("/me/suggestions/olof-s0", data={"action": "dismissed", "csrf": csrf})
    assert answer.status_code == 404
    assert not service.publisher.sent
    # An owner named in the query or a form never widens the session's scope.
    for path in ("/me/?owner=olof", "/me/map?owner_id=olof", "/me/suggestions?o=olof"):
        shown = client.get(path)
        assert shown.status_code == 200
        assert "Sara Secret" not in shown.text
    client.post(
        "/me/goals",
        data={"csrf": csrf, "owner_id": OLOF, "full_name": "X", "emails": "x@example.com"},
    )
    [(_, goals)] = service.publisher.sent
    assert goals.owner_id == MARIA


def test_text_from_the_network_is_escaped(notifier) -> None:
    client = signed_in(notifier, MARIA)
    page = client.get("/me/").text
    assert "Erik &lt;b&gt;Ek&lt;/b&gt;" in page
    assert "<b>Ek</b>" not in page


def test_the_map_names_the_gaps_and_reads_as_text(notifier) -> None:
    client = signed_in(notifier, MARIA)
    network = client.get("/me/map").text
    assert network.lstrip().startswith('<section id="map"')
    assert "0 CFOs in Oslo" in network
    assert 'role="img"' in network
    assert "CFOs in Oslo 0" in network  # the text version of the goals chart


def test_goals_are_checked_field_by_field_and_sent_when_right(notifier) -> None:
    service, _ = notifier
    client = signed_in(notifier, MARIA)
    csrf = csrf_of(client)
    wrong = client.post(
        "/me/goals",
        data={"csrf": csrf, "full_name": "Maria", "emails": "maria@example.com, not-an-address"},
        headers={"x-requested-with": "fetch"},
    )
    assert wrong.status_code == 422
    assert re.search(r'id="e-emails">Item 2: [^<]*email', wrong.text), wrong.text
    assert not service.publisher.sent
    right = client.post(
        "/me/goals",
        data={
            "csrf": csrf,
            "full_name": "Maria Lindqvist",
            "emails": "maria@example.com",
            "target_functions": "CFO, CIO",
            "target_cities": "Oslo\nStockholm",
        },
        headers={"x-requested-with": "fetch"},
    )
    assert right.status_code == 200
    assert "Saved" in right.text
    [(topic, sent)] = service.publisher.sent
    assert topic == topics.GOALS
    assert sent.data.target_functions == ["CFO", "CIO"]
    assert sent.data.target_cities == ["Oslo", "Stockholm"]
    assert 'value="CFO, CIO"' in client.get("/me/").text


def test_preferences_are_checked_and_keep_a_webhook_set_elsewhere(notifier) -> None:
    service, _ = notifier
    client = signed_in(notifier, MARIA)
    csrf = csrf_of(client)
    wrong = client.post(
        "/me/preferences",
        data={
            "csrf": csrf,
            "cadence": "daily",
            "timezone": "Mars/Olympus",
            "quiet_hours_start": "25",
        },
    )
    assert wrong.status_code == 422
    assert 'id="e-timezone"' in wrong.text
    assert 'id="e-quiet_hours_start"' in wrong.text
    assert not service.publisher.sent
    right = client.post(
        "/me/preferences",
        data={
            "csrf": csrf,
            "email": "maria@example.com",
            "cadence": "weekly",
            "digest_hour": "7",
            "timezone": "Europe/Oslo",
            "weekly_budget": "3",
        },
        follow_redirects=False,
    )
    assert right.status_code == 303
    [(topic, sent)] = service.publisher.sent
    assert topic == topics.PREFERENCES
    assert (sent.data.cadence, sent.data.digest_hour, sent.data.weekly_budget) == ("weekly", 7, 3)


def test_an_import_says_so_when_the_importer_cannot_be_reached(notifier) -> None:
    client = signed_in(notifier, MARIA)
    csrf = csrf_of(client)
    answer = client.post(
        "/me/import",
        data={"csrf": csrf},
        files={"file": ("people.vcf", b"BEGIN:VCARD\r\nEND:VCARD\r\n", "text/vcard")},
        headers={"x-requested-with": "fetch"},
    )
    assert answer.status_code == 422
    assert "cannot be reached" in answer.text


def test_signing_out_ends_the_session_in_the_browser(notifier) -> None:
    client = signed_in(notifier, MARIA)
    csrf = csrf_of(client)
    assert client.post("/me/sign-out", data={"csrf": csrf}).status_code == 200
    assert client.get("/me/").status_code == 401


def test_every_route_of_the_page_is_scoped_to_the_sessions_owner(notifier) -> None:
    """Each route the page has (found, not listed by hand), called with Maria's session
    and Olof's ids in its path, query and form: a 403 or 404, or nothing of Olof's."""
    from starlette.routing import Route

    service, _ = notifier
    client = signed_in(notifier, MARIA)
    csrf = csrf_of(client)
    routes = [r for r in client.app.routes if isinstance(r, Route)]
    assert len(routes) >= 9
    for route in routes:
        path = route.path.replace("{suggestion_id}", "olof-s0")
        for method in sorted(route.methods or {"GET"}):
            if method == "HEAD" or path in ("/me/sign-in", "/me/sign-out"):
                continue
            answer = client.request(
                method,
                f"{path}?owner={OLOF}&owner_id={OLOF}",
                data={"csrf": csrf, "owner_id": OLOF, "action": "dismissed"},
            )
            assert "Sara Secret" not in answer.text, (method, path)
            if "{" in route.path:
                assert answer.status_code in (403, 404), (method, path, answer.status_code)
    assert all(sent.owner_id == MARIA for _, sent in service.publisher.sent)


def test_erasures_take_the_pages_copies_with_them(notifier) -> None:
    """An erased person's answered suggestions go; an erased owner's goals, map and
    answers go, and their page is empty."""
    from shared.messages.network import OwnerErased, PersonErased

    service, _ = notifier
    client = signed_in(notifier, MARIA)
    csrf = csrf_of(client)
    for suggestion in ("maria-s0", "maria-s1"):
        client.post(f"/me/suggestions/{suggestion}", data={"action": "done", "csrf": csrf})

    def kept(session: UnitOfWork) -> tuple[set[str], bool]:
        from services.notifier import store

        owner = store.owner(session, owner_id=MARIA)
        return set(store.answers(session, owner_id=MARIA)), owner is not None

    erase_anna = wrap(
        PersonErased(person_id="maria-p0", requested=True), owner_id=MARIA, source="t"
    )
    asyncio.run(consume(service, [(topics.ERASURES, erase_anna)]))
    assert asyncio.run(service.database.in_transaction(kept)) == ({"maria-s1"}, True)
    asyncio.run(
        consume(service, [(topics.ERASURES, wrap(OwnerErased(), owner_id=MARIA, source="t"))])
    )
    assert asyncio.run(service.database.in_transaction(kept)) == (set(), False)
    page = client.get("/me/").text
    assert "Anna Berg" not in page
    assert "Maria Lindqvist" not in page
    assert "Nothing suggested yet" in page
