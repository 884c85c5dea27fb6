"""The ``springboard`` command."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path

import typer

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
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,  # type: ignore[arg-type]
        log_level=settings.log_level.lower(),
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


if __name__ == "__main__":
    app()
