"""The ``springboard`` command."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from services.terminal import console

app = typer.Typer(help="Springboard: build and keep a business network.", no_args_is_help=True)


class ServiceName(StrEnum):
    ingest = "ingest"
    recommender = "recommender"
    notifier = "notifier"


@app.command()
def run(service: ServiceName) -> None:
    """Run one service (settings from SPRINGBOARD_* environment variables)."""
    import uvicorn

    if service is ServiceName.ingest:
        from services.ingest.main import create_app
        from services.ingest.settings import IngestSettings as Settings
    elif service is ServiceName.recommender:
        from services.recommender.main import create_app  # type: ignore[assignment]
        from services.recommender.settings import RecommenderSettings as Settings  # type: ignore[assignment]
    else:
        from services.notifier.main import create_app  # type: ignore[assignment]
        from services.notifier.settings import NotifierSettings as Settings  # type: ignore[assignment]
    from shared.http_guard import server_options
    from shared.logs import configure

    settings = Settings()
    configure(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        **server_options(settings),
    )


@app.command()
def sync(
    kind: str = typer.Argument(..., help="caldav (calendars) or carddav (address books)."),
    url: str = typer.Argument(
        ..., help="The server's account or principal URL, or one collection's."
    ),
    owner: str = typer.Option(..., "--owner", help="Whose network."),
    username: str | None = typer.Option(None, "--username", help="The account's user name."),
    password_env: str | None = typer.Option(
        None,
        "--password-env",
        help="Environment variable with the password (default SPRINGBOARD_DAV_PASSWORD).",
    ),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="File with the password."
    ),
    calendar: list[str] = typer.Option(
        [], "--calendar", "--addressbook", help="Only this collection, by name (repeatable)."
    ),
    watch: float | None = typer.Option(None, "--watch", help="Sync again every N seconds."),
    timezone: str = typer.Option("Europe/Stockholm", help="Zone for floating and all-day times."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON line per sync."),
) -> None:
    """Keep calendars (CalDAV) or address books (CardDAV) in step: the first sync takes
    everything, later ones only what changed; changes and deletions flow through.

    Exit codes: 0 synced; 1 the server refused the credentials or a sync failed; 2 the
    command could not run. Use an app password, given by environment variable or file.
    """
    from services.ingest.sync_command import main

    raise typer.Exit(
        main(
            kind=kind,
            url=url,
            owner=owner,
            username=username,
            password_env=password_env,
            password_file=password_file,
            names=calendar,
            watch=watch,
            timezone=timezone,
            as_json=json_output,
        )
    )


@app.command()
def demo(
    json_output: bool = typer.Option(
        False, "--json", help="Print the suggestions as one JSON array."
    ),
    keep_running: bool = typer.Option(
        False, "--keep-running", help="Leave the system up afterwards."
    ),
    data_dir: Path | None = typer.Option(
        None, help="Keep the SQLite files here (default: a temporary folder)."
    ),
    seed: int = typer.Option(7, help="Seed of the sample network."),
    timeout: float = typer.Option(120.0, help="Seconds to wait for suggestions."),
) -> None:
    """Run the whole system on the embedded broker, feed the sample network, show suggestions."""
    from services.demo import main

    raise typer.Exit(
        main(
            as_json=json_output,
            keep_running=keep_running,
            data_dir=data_dir,
            seed=seed,
            timeout=timeout,
        )
    )


@app.command("import")
def import_(
    kind: str = typer.Argument(..., help="ics, vcard, csv or attendees"),
    source: list[str] = typer.Argument(
        ..., help="One or more files, or an https:// or webcal:// feed URL."
    ),
    owner: str = typer.Option(..., "--owner", help="The Springboard user this network belongs to."),
    fmt: str | None = typer.Option(
        None,
        "--format",
        help="CSV format: linkedin, hubspot, salesforce, google, outlook, or one variant "
        "such as salesforce-report, salesforce-lead, outlook-de.",
    ),
    mapping: Path | None = typer.Option(None, help="JSON column mapping for any other CSV."),
    event: str | None = typer.Option(None, help="Event id the attendee list belongs to."),
    timezone: str = typer.Option("Europe/Stockholm", help="Zone for floating and all-day times."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Parse and report; publish nothing."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON summary."),
    watch: float | None = typer.Option(None, help="Poll a feed URL every N seconds."),
    me: list[str] = typer.Option(
        [], "--me", help="Your own address in the calendar (repeat for several)."
    ),
    events: bool = typer.Option(
        False, "--events", help="The calendar is an event feed: entries are events to attend."
    ),
) -> None:
    """Import a calendar, vCard file, CRM export or attendee list into an owner's network.

    Exit codes: 0 something was imported (or found, with --dry-run), perhaps not all of it,
    or a feed had not changed; 1 nothing could be imported; 2 the command could not run.
    With several files, each is imported and reported on its own, and the code is the worst
    of theirs.
    """
    from services.ingest.import_command import main

    raise typer.Exit(
        main(
            kind=kind,
            sources=source,
            owner=owner,
            fmt=fmt,
            mapping=mapping,
            event=event,
            timezone=timezone,
            dry_run=dry_run,
            as_json=json_output,
            watch=watch,
            me=me,
            events=events,
        )
    )


@app.command()
def up(
    data_dir: Path | None = typer.Option(
        None, help="Where the stores live (default .springboard, or SPRINGBOARD_DATA_DIR)."
    ),
) -> None:
    """Run the whole system for your own network, kept on disk, until Ctrl-C."""
    from services.up import main

    raise typer.Exit(main(data_dir))


@app.command()
def owner(
    owner_id: str = typer.Option(..., "--owner", help="Your owner id (e.g. maria.lindqvist)."),
    name: str = typer.Option(..., "--name", help="Your name."),
    email: list[str] = typer.Option(
        ..., "--email", help="Your own address; repeat for each you use."
    ),
    city: str | None = typer.Option(None, "--city", help="Where you live and work."),
    country: str = typer.Option("SE", "--country", help="Two-letter country code."),
    target_industry: list[str] = typer.Option([], "--target-industry", help="Repeatable."),
    target_role: list[str] = typer.Option([], "--target-role", help="e.g. CFO; repeatable."),
    target_city: list[str] = typer.Option([], "--target-city", help="Repeatable."),
    interest: list[str] = typer.Option([], "--interest", help="A topic you follow; repeatable."),
    json_output: bool = typer.Option(False, "--json", help="Print what was sent as JSON."),
) -> None:
    """Say who you are and what you want: the industries, roles and regions that matter."""
    from services import owner_commands as oc

    def build() -> oc.Outgoing:
        return oc.goals(
            owner_id,
            name=name,
            emails=email,
            city=city,
            country=country,
            industries=target_industry,
            roles=target_role,
            cities=target_city,
            interests=interest,
        )

    raise typer.Exit(oc.run(build, as_json=json_output))


@app.command()
def preferences(
    owner_id: str = typer.Option(..., "--owner", help="Whose preferences."),
    email: str | None = typer.Option(None, "--email", help="Where digests go."),
    webhook_url: str | None = typer.Option(None, "--webhook-url", help="Where each is POSTed."),
    webhook_secret: str | None = typer.Option(None, "--webhook-secret", help="Its secret."),
    cadence: str = typer.Option("daily", "--cadence", help="instant, daily or weekly."),
    digest_hour: int = typer.Option(8, "--digest-hour", help="Local hour digests go out."),
    quiet_hours: str | None = typer.Option(None, "--quiet-hours", help="e.g. 20-07."),
    timezone: str = typer.Option("Europe/Stockholm", "--timezone", help="IANA time zone."),
    budget: int | None = typer.Option(None, "--budget", help="Suggestions a week."),
    json_output: bool = typer.Option(False, "--json", help="Print what was sent as JSON."),
) -> None:
    """Say how and when to hear about suggestions."""
    from services import owner_commands as oc

    def build() -> oc.Outgoing:
        return oc.preferences(
            owner_id,
            email=email,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            cadence=cadence,
            digest_hour=digest_hour,
            quiet_hours=quiet_hours,
            timezone=timezone,
            budget=budget,
        )

    raise typer.Exit(oc.run(build, as_json=json_output))


@app.command()
def favour(
    owner_id: str = typer.Option(..., "--owner", help="Whose network."),
    person: str = typer.Option(..., "--person", help="The other party's address."),
    given: bool = typer.Option(False, "--given", help="You did them the favour."),
    received: bool = typer.Option(False, "--received", help="They did you the favour."),
    kind: str = typer.Option(..., "--kind", help="referral, introduction, help, recommendation."),
    on: str | None = typer.Option(None, "--on", help="The day (YYYY-MM-DD); default today."),
    note: str | None = typer.Option(None, "--note", help="What it was."),
    json_output: bool = typer.Option(False, "--json", help="Print what was sent as JSON."),
) -> None:
    """Record a favour given or received."""
    from services import owner_commands as oc

    def build() -> oc.Outgoing:
        return oc.favour(
            owner_id, person=person, given=given, received=received, kind=kind, on=on, note=note
        )

    raise typer.Exit(oc.run(build, as_json=json_output))


@app.command()
def feedback(
    suggestion_id: str = typer.Argument(..., help="The suggestion's id (suggestions --json)."),
    action: str = typer.Argument(..., help="accept, dismiss, snooze or done."),
    owner_id: str = typer.Option(..., "--owner", help="Whose suggestion."),
    json_output: bool = typer.Option(False, "--json", help="Print what was sent as JSON."),
) -> None:
    """Answer a suggestion."""
    from services import owner_commands as oc

    def build() -> oc.Outgoing:
        return oc.feedback(owner_id, suggestion_id=suggestion_id, action=action)

    raise typer.Exit(oc.run(build, as_json=json_output))


@app.command()
def erase(
    owner_id: str = typer.Option(..., "--owner", help="Whose data."),
    person: str | None = typer.Option(
        None,
        "--person",
        help="Erase this person (an address, phone, profile URL or name); without it, "
        "everything of the owner's.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print what was sent as JSON."),
) -> None:
    """Erase one person from your network, or everything of yours."""
    from services import owner_commands as oc

    raise typer.Exit(oc.run(lambda: oc.erase(owner_id, person=person), as_json=json_output))


@app.command("open")
def open_page(
    owner_id: str = typer.Option(..., "--owner", help="Whose page."),
    by_email: bool = typer.Option(
        False, "--email", help="E-mail the link to the owner's address instead (needs SMTP)."
    ),
    data_dir: Path | None = typer.Option(None, help="The data directory `up` runs on."),
) -> None:
    """A sign-in link to the owner's page: this week's suggestions, the network map, goals.

    The link works once, for SPRINGBOARD_SIGN_IN_MINUTES (15). Exit codes: 0 printed or
    sent, 1 it could not be sent, 2 a bad argument."""
    from services import page_link

    raise typer.Exit(page_link.main(owner_id, by_email=by_email, data_dir=data_dir))


@app.command()
def suggestions(
    owner_id: str = typer.Option(..., "--owner", help="Whose suggestions to show."),
    follow: bool = typer.Option(False, "--follow", help="Keep showing new ones as they come."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON array."),
    data_dir: Path | None = typer.Option(None, help="The data directory `up` runs on."),
) -> None:
    """Show this week's suggestions for an owner; --follow shows new ones as they come."""
    import asyncio

    from rich.console import Console

    from services import owner_commands as oc
    from services.demo import suggestion_rows
    from services.terminal import render_table
    from shared.client import BrokerUnavailable, SuggestionReader
    from shared.settings import SpringboardSettings

    code = oc.suggestions(owner_id, data_dir=data_dir, as_json=json_output)
    if code or not follow:
        raise typer.Exit(code)

    async def show() -> None:
        async with SuggestionReader(SpringboardSettings().kafka) as reader:
            await reader.collect(owner_id=None, want=10**9, timeout=5, quiet=1)  # seen already
            while True:
                new = [e for e in await reader.read(1.0) if e.owner_id == owner_id]
                for row in suggestion_rows(new):
                    if json_output:
                        print(json.dumps(row, ensure_ascii=False), flush=True)
                    else:
                        render_table([row], Console())

    import json

    try:
        asyncio.run(show())
    except BrokerUnavailable as error:
        console(stderr=True).print(str(error), markup=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


@app.command()
def evaluate(
    input_file: Path = typer.Option(..., "--input", help="JSONL: one input envelope a line."),
    cutoff: list[str] = typer.Option(
        ...,
        help="ISO time: replay up to here, score what came after. Repeat it to pool "
        "several cut-offs.",
    ),
    horizon: str = typer.Option("30d", help="How long after the cut-off counts (30d, 4w…)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
    train_first: bool = typer.Option(
        False, "--train", help="First train models on backtests before the cut-off."
    ),
    model_dir: Path | None = typer.Option(None, help="Model store to use (and promote into)."),
) -> None:
    """Rank every owner as of each cut-off; NDCG, precision and recall against what happened."""
    import json

    from rich.table import Table

    from services.offline import evaluate as evaluation

    try:
        moments = [evaluation.parse_cutoff(c) for c in cutoff]
        window = evaluation.parse_horizon(horizon)
        envelopes, bad = evaluation.read_input(input_file)
    except evaluation.BadArguments as error:
        console(stderr=True).print(f"evaluate: {error}", markup=False)
        raise typer.Exit(2) from None
    report = evaluation.run_envelopes(
        envelopes,
        bad=bad,
        cutoff=moments,
        horizon=window,
        model_dir=model_dir,
        train_first=train_first,
    )
    if json_output:
        print(json.dumps(report))
        return
    out, notes = console(), console(stderr=True)
    table = Table(
        title=f"Evaluation at {', '.join(report['cutoffs'])}, "
        f"horizon {report['horizon_days']:g} days"
    )
    for column in ("kind", "owners", "rankings", "ranker", *evaluation.METRICS, "model lead"):
        table.add_column(column, no_wrap=True)
    for kind, result in report["kinds"].items():
        for ranker, metrics in result["rankers"].items():
            lead = result["model_minus"].get(ranker)
            table.add_row(
                kind,
                str(result["owners"]),
                str(result["rankings"]),
                ranker,
                *(f"{metrics[m]:.3f}" for m in evaluation.METRICS),
                f"{lead['ndcg@10']:+.3f} ({lead['ci95'][0]:+.3f} to {lead['ci95'][1]:+.3f})"
                if lead
                else "",
            )
    out.print(table)
    for line in evaluation.notes(report):
        notes.print(line, markup=False)


@app.command("map")
def network_map(
    owner: str = typer.Option(..., "--owner", help="Whose network to map."),
    png: Path | None = typer.Option(None, help="Also draw it into this PNG file."),
) -> None:
    """The owner's network by industry, function, seniority, city and tie strength, and its gaps."""
    from services import owner_commands as oc
    from services.recommender import network_map as mapping
    from services.recommender.settings import RecommenderSettings

    settings = RecommenderSettings()
    missing = oc.no_store(settings, "recommender")
    if missing:
        console(stderr=True).print(missing, markup=False)
        raise typer.Exit(1)
    try:
        network = mapping.for_owner(settings, owner)
    except SQLAlchemyError as error:
        console(stderr=True).print(oc.store_unreadable("recommender", error), markup=False)
        raise typer.Exit(1) from None
    print(mapping.render_text(network))
    if png is not None:
        print(f"picture: {mapping.render_png(network, png)}")


@app.command()
def merges(
    owner: str = typer.Option(..., "--owner", help="Whose identity merges to list."),
    undo: str | None = typer.Option(None, help="Split this merge (its id) back into two people."),
) -> None:
    """List how records were merged into one person, and why; or undo one merge."""
    import asyncio

    from rich.console import Console
    from rich.table import Table

    from services import owner_commands as oc
    from services.ingest import store
    from services.ingest.models import TABLES
    from services.ingest.settings import IngestSettings
    from services.ingest.store import IngestWork
    from shared import database, topics
    from shared.client import BrokerUnavailable, publish
    from shared.messages import UndoMerge, wrap

    settings = IngestSettings()
    missing = oc.no_store(settings, "ingest")
    if missing and not undo:
        console(stderr=True).print(missing, markup=False)
        raise typer.Exit(1)
    if undo:
        request = wrap(UndoMerge(merge_id=undo), owner_id=owner, source="cli:merges")
        try:
            asyncio.run(publish(settings.kafka, [(topics.IDENTITY, request)]))
        except BrokerUnavailable as error:
            console(stderr=True).print(str(error), markup=False)
            raise typer.Exit(1) from None
        Console().print(f"Asked ingest to undo merge {undo}.")
        return
    try:
        with (
            database.store_of(settings, "ingest", TABLES) as engine,
            database.transaction(engine, IngestWork) as session,
        ):
            rows = store.merges(session, owner_id=owner)
    except SQLAlchemyError as error:
        console(stderr=True).print(oc.store_unreadable("ingest", error), markup=False)
        raise typer.Exit(1) from None
    table = Table(title=f"Identity merges of {owner}")
    for column in ("merge", "kept", "merged", "why", "when", "undone"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.merge_id,
            row.kept_id,
            str(row.merged_person.get("full_name")),
            row.reason,
            row.merged_at.isoformat(timespec="seconds"),
            row.undone_at.isoformat(timespec="seconds") if row.undone_at else "",
        )
    Console().print(table)


if __name__ == "__main__":
    app()
