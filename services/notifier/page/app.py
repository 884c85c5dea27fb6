"""The owner's page, served by the notifier under ``/me/``: this week's suggestions with
their answers, the network map against the goals, goals and preferences as forms, and an
import box.

Server-rendered (Jinja2, autoescaped) and whole without JavaScript: each form posts and
comes back to the page. ``static/page.js`` only makes forms swap their own section in
place and waits for a map that is being redrawn. Every asset is served from here.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from prometheus_client import Histogram
from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from services.notifier import store
from services.notifier.page import forms, view
from services.notifier.page.sessions import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    Session,
    Sessions,
    SignInRefused,
    token_digest,
)
from services.notifier.settings import NotifierSettings
from shared import topics
from shared.messages import FeedbackGiven, Message, wrap
from shared.messages.inputs import FeedbackAction
from shared.service import ServiceRuntime
from shared.service_calls import signed_headers
from shared.unit_of_work import UnitOfWork

HERE = Path(__file__).parent
SOURCE = "springboard.notifier.page"
ANSWER_NAMESPACE = uuid.UUID("7c1f0b0e-4d1a-4b8e-9a52-3f7d2b6c9e10")
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    # same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with
    # a form's POST, and the origin check could not tell the page from another site.
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
}
USED = "This sign-in link was already used; ask for a new one."
FORM_SLACK_BYTES = 64_000
"""Room for a multipart form's fields and boundaries around the uploaded file."""

logger = logging.getLogger("springboard.notifier.page")


class OwnerPage:
    def __init__(
        self, runtime: ServiceRuntime[UnitOfWork], settings: NotifierSettings, secret: str | None
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.sessions = (
            Sessions(
                secret,
                sign_in_seconds=settings.sign_in_minutes * 60,
                session_seconds=settings.session_hours * 3600,
            )
            if secret
            else None
        )
        self.secret = secret
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.globals["kinds"] = view.KIND_LABELS
        self.templates.env.globals["action_words"] = view.ACTION_WORDS
        self.templates.env.globals["singular"] = view.SINGULAR
        self.seconds = Histogram(
            "springboard_notifier_page_seconds",
            "Time to answer a request of the owner's page, by route.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=runtime.registry,
        )

    def app(self) -> Starlette:
        routes = [
            Route("/me", lambda _r: RedirectResponse("/me/", 308)),
            Route("/me/", self._timed("home", self.home)),
            Route("/me/sign-in", self._timed("sign_in", self.sign_in), methods=["GET", "POST"]),
            Route("/me/sign-out", self._timed("sign_out", self.sign_out), methods=["POST"]),
            Route("/me/suggestions", self._timed("suggestions", self.suggestions)),
            Route(
                "/me/suggestions/{suggestion_id}",
                self._timed("answer", self.answer),
                methods=["POST"],
            ),
            Route("/me/map", self._timed("map", self.network)),
            Route("/me/goals", self._timed("goals", self.goals), methods=["POST"]),
            Route(
                "/me/preferences", self._timed("preferences", self.preferences), methods=["POST"]
            ),
            Route("/me/import", self._timed("import", self.import_file), methods=["POST"]),
            Mount("/me/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
        return Starlette(
            routes=routes,
            exception_handlers={HTTPException: self._problem, Exception: self._failure},
        )

    # -- routes -------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        session = self._session(request)
        page = await self._db(lambda s: view.page(s, session.owner_id))
        return self._render(request, "page.html", session, page=page)

    async def sign_in(self, request: Request) -> Response:
        """GET shows a button that signs in (POST): mail scanners that fetch every link
        in a message would otherwise use up a link that works once."""
        sessions = self._sessions()
        if request.method == "GET":
            token = request.query_params.get("t", "")
        else:
            self._same_site(request)
            form = await request.form(max_files=0, max_fields=5, max_part_size=4_000)
            token = str(form.get("t", ""))
        try:
            owner_id = sessions.owner_of_sign_in(token)
        except SignInRefused as refused:
            return self._message(request, str(refused), 403)
        digest = token_digest(token)
        if await self._db(lambda s: store.link_used(s, token_digest=digest)):
            return self._message(request, USED, 403)
        if request.method == "GET":
            return self.templates.TemplateResponse(request, "sign_in.html", {"token": token})
        expires = datetime.now(UTC) + timedelta(seconds=sessions.sign_in_seconds)
        try:
            await self._db(
                lambda s: store.use_link(
                    s,
                    token_digest=digest,
                    owner_id=owner_id,
                    expires_at=expires,
                    now=datetime.now(UTC),
                )
            )
        except IntegrityError:  # the same link, used at the same moment elsewhere
            return self._message(request, USED, 403)
        response = RedirectResponse("/me/", 303)
        response.set_cookie(
            COOKIE,
            sessions.start(owner_id),
            max_age=sessions.session_seconds,
            path="/me",
            httponly=True,
            secure=self._https(request),
            samesite="lax",
        )
        return response

    async def sign_out(self, request: Request) -> Response:
        await self._posted(request)
        response = self._message(request, "Signed out.", 200)
        response.delete_cookie(COOKIE, path="/me")
        return response

    async def suggestions(self, request: Request) -> Response:
        session = self._session(request)
        page = await self._db(lambda s: view.page(s, session.owner_id))
        return self._render(request, "_suggestions.html", session, page=page)

    async def answer(self, request: Request) -> Response:
        session, form = await self._posted(request)
        suggestion_id = request.path_params["suggestion_id"]
        try:
            action = FeedbackAction(str(form.get("action", "")))
        except ValueError:
            raise HTTPException(400, "Choose accept, done, snooze or dismiss.") from None
        owner = session.owner_id
        if not await self._db(lambda s: view.suggestion_of(s, owner, suggestion_id)):
            raise HTTPException(404, "No such suggestion.")
        message_id = str(uuid.uuid5(ANSWER_NAMESPACE, f"{owner}|{suggestion_id}|{action.value}"))
        await self._publish(
            topics.FEEDBACK,
            FeedbackGiven(suggestion_id=suggestion_id, action=action),
            owner,
            message_id,
        )
        now = datetime.now(UTC)
        await self._db(
            lambda s: store.save_answer(
                s, owner_id=owner, suggestion_id=suggestion_id, action=action.value, at=now
            )
        )
        return await self._back(request, session, "_suggestions.html", "suggestions")

    async def network(self, request: Request) -> Response:
        session = self._session(request)
        page = await self._db(lambda s: view.page(s, session.owner_id))
        return self._render(request, "_map.html", session, page=page)

    async def goals(self, request: Request) -> Response:
        session, form = await self._posted(request)
        filled = forms.goals_form({k: str(v) for k, v in form.items()})
        owner = session.owner_id
        if filled.ok:
            await self._publish(topics.GOALS, filled.message, owner)
            await self._db(lambda s: store.save_goals(s, owner_id=owner, goals=filled.message))
        return await self._back(
            request, session, "_goals.html", "goals", filled=filled, waiting=filled.ok
        )

    async def preferences(self, request: Request) -> Response:
        session, form = await self._posted(request)
        owner = session.owner_id
        kept = await self._db(lambda s: store.preferences(s, owner_id=owner))
        filled = forms.preferences_form(
            {k: str(v) for k, v in form.items()}, kept.model_dump() if kept else None
        )
        if filled.ok:
            await self._publish(topics.PREFERENCES, filled.message, owner)
            await self._db(
                lambda s: store.save_preferences(s, owner_id=owner, prefs=filled.message)
            )
        return await self._back(request, session, "_preferences.html", "preferences", filled=filled)

    async def import_file(self, request: Request) -> Response:
        limit = self.settings.upload_max_bytes
        too_large = f"A file of at most {limit:,} bytes."
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + FORM_SLACK_BYTES:
            return await self._import_result(request, self._session(request), error=too_large)
        session, form = await self._posted(request)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._import_result(
                request, session, error="Choose a .ics, .vcf or .csv file."
            )
        body = await upload.read(limit + 1)
        if len(body) > limit:
            return await self._import_result(request, session, error=too_large)
        owner = session.owner_id
        stored = await self._db(lambda s: store.owner(s, owner_id=owner))
        me = ",".join((stored.goals or {}).get("emails", [])) if stored else ""
        fields = {"filename": upload.filename[:200], "me": me}
        assert self.secret is not None
        try:
            async with httpx.AsyncClient(timeout=120.0) as client:
                answer = await client.post(
                    f"{self.settings.ingest_url.rstrip('/')}/imports",
                    content=body,
                    headers=signed_headers(self.secret, owner, body, fields),
                )
        except httpx.HTTPError as error:
            logger.warning("import: ingest unreachable: %s", error)
            return await self._import_result(
                request,
                session,
                error="The importer cannot be reached just now; try again in a minute.",
            )
        result = answer.json() if answer.headers.get("content-type") == "application/json" else {}
        if answer.status_code != 200:
            reason = result.get("error") or f"the importer answered {answer.status_code}"
            return await self._import_result(request, session, error=str(reason)[:300].capitalize())
        return await self._import_result(request, session, summary=result)

    # -- helpers ------------------------------------------------------------------------

    def _timed(
        self, name: str, route: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def timed(request: Request) -> Response:
            started = time.perf_counter()
            try:
                response = await route(request)
            finally:
                self.seconds.labels(name).observe(time.perf_counter() - started)
            response.headers.update(SECURITY_HEADERS)
            return response

        return timed

    def _sessions(self) -> Sessions:
        if self.sessions is None:
            raise HTTPException(503, "The page is off: set SPRINGBOARD_LINK_SECRET.")
        return self.sessions

    def _session(self, request: Request) -> Session:
        session = self._sessions().read(request.cookies.get(COOKIE))
        if session is None:
            raise HTTPException(401, "Sign in with a link: springboard open --owner YOU.")
        return session

    async def _posted(self, request: Request) -> tuple[Session, Any]:
        """The session of a POST whose CSRF token and origin are its own; and its form."""
        session = self._session(request)
        self._same_site(request)
        form = await request.form(max_files=1, max_fields=50, max_part_size=64_000)
        given = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD, ""))
        if not session.csrf_ok(given):
            raise HTTPException(403, "This form is out of date; reload the page.")
        return session, form

    def _same_site(self, request: Request) -> None:
        """Refuses a POST whose ``Origin`` is another site. The page's own address and its
        public one (behind a proxy) pass; a request without one is left to the CSRF token."""
        public = urlsplit(self.settings.public_url)
        ours = {
            f"{request.url.scheme}://{request.url.netloc}",
            f"{public.scheme}://{public.netloc}",
        }
        origin = request.headers.get("origin")
        if origin and origin not in ours:
            raise HTTPException(403, "This form was sent from another site.")

    def _https(self, request: Request) -> bool:
        return request.url.scheme == "https" or self.settings.public_url.startswith("https://")

    async def _db(self, work: Callable[[UnitOfWork], Any]) -> Any:
        return await self.runtime.database.in_transaction(work)

    async def _publish(
        self, topic: str, data: Message, owner_id: str, message_id: str | None = None
    ) -> None:
        envelope = wrap(data, owner_id=owner_id, source=SOURCE, message_id=message_id)
        try:
            await self.runtime.publisher.publish_all([(topic, envelope)])
        except Exception as error:  # the broker is down or refused it: nothing was sent
            logger.warning("page: could not publish to %s: %s", topic, error)
            raise HTTPException(
                503, "Springboard cannot reach its broker just now; nothing was sent. Try again."
            ) from None

    async def _back(
        self, request: Request, session: Session, fragment: str, anchor: str, **context: Any
    ) -> Response:
        """A fetch gets its section again; a plain form post, the whole page."""
        page = await self._db(lambda s: view.page(s, session.owner_id))
        filled = context.get("filled")
        status = 422 if filled is not None and not filled.ok else 200
        if request.headers.get("x-requested-with") == "fetch":
            return self._render(request, fragment, session, page=page, status=status, **context)
        if status == 200:
            return RedirectResponse(f"/me/#{anchor}", 303)
        return self._render(request, "page.html", session, page=page, status=status, **context)

    async def _import_result(
        self,
        request: Request,
        session: Session,
        *,
        summary: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> Response:
        """The import box with what happened: alone for a fetch, else in the whole page."""
        status = 200 if error is None else 422
        context: dict[str, Any] = {"summary": summary, "import_error": error}
        if request.headers.get("x-requested-with") == "fetch":
            return self._render(request, "_import.html", session, status=status, **context)
        page = await self._db(lambda s: view.page(s, session.owner_id))
        return self._render(request, "page.html", session, page=page, status=status, **context)

    def _render(
        self, request: Request, name: str, session: Session, *, status: int = 200, **context: Any
    ) -> Response:
        return self.templates.TemplateResponse(
            request, name, {"csrf": session.csrf, **context}, status_code=status
        )

    def _message(self, request: Request, text: str, status: int) -> Response:
        response = self.templates.TemplateResponse(
            request, "message.html", {"text": text}, status_code=status
        )
        response.headers.update(SECURITY_HEADERS)
        return response

    async def _problem(self, request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return self._message(request, error.detail, error.status_code)

    async def _failure(self, request: Request, error: Exception) -> Response:
        logger.error("owner's page: %s %s failed", request.method, request.url.path, exc_info=error)
        return self._message(
            request, "Something went wrong on our side; your data is safe. Try again.", 500
        )
