"""Offline evaluation: replay an input stream up to a cut-off, rank, score against what happened.

``springboard evaluate --input FILE.jsonl --cutoff ISO_TIME [--cutoff ISO_TIME…] [--horizon 30d]
[--json]``. Each line is one input envelope, exactly as on the input topics. Everything with
a time up to the cut-off is replayed through ingest's identity resolution and the recommender's
projection (in memory), with attendance of events after the cut-off seen as registration
only; then every owner is ranked as of the cut-off by the model and by the baselines, and
each ranking is scored against what happened in the horizon after it:

- reconnect: the contacts the owner met;       introduction: people met for the first time;
- event: the events the owner attended;        give_back: the people the owner did a favour;

an event by its start, however late its attendance was recorded.

With several cut-offs, each is replayed, trained for and ranked on its own, and the
metrics pool every (owner, cut-off): more outcomes than one cut-off holds. Intervals
resample owners, each with all their cut-offs, since an owner's rankings are alike.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

from services.offline.replay import Truth, read, replay_at, snapshots_at
from services.recommender import (
    artefacts,
    baselines,
    scoring,
    train,
)
from services.recommender import store as rec_store
from services.recommender.candidates import Candidate, all_candidates
from services.recommender.rankers import Ranker, matrix
from services.recommender.ranking_quality import ndcg_at, paired_difference, precision_at, recall_at
from services.recommender.snapshot import DEFAULT_HORIZON
from shared import database
from shared.messages.recommendations import SuggestionKind

METRICS = ("ndcg@5", "ndcg@10", "precision@5", "recall@10")


def relevant_for(kind: SuggestionKind, truth: Truth, contacts: set[str]) -> set[str]:
    if kind is SuggestionKind.RECONNECT:
        return truth.met & contacts
    if kind is SuggestionKind.INTRODUCTION:
        return truth.met - contacts
    if kind is SuggestionKind.EVENT:
        return truth.attended
    return truth.helped


@dataclass
class Scores:
    """Per kind: each ranker's metrics per ranked owner at a cut-off, in the same order for
    every ranker, with the owner of each; the (owner, cut-off) rankings left out because
    none of what the owner did was among the candidates; how many outcomes there were and
    how many of them no candidate covered. And the owners never recognised as themselves."""

    values: dict[str, dict[str, dict[str, list[float]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    )
    owners: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    left_out: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    outside: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unrecognised: set[str] = field(default_factory=set)


NOT_SERVED = float("-inf")


def served(
    found: Sequence[Candidate], model: list[float], prior: list[float], snapshot: Any
) -> list[float]:
    """The model's scores of what the recommender publishes (``scoring.worth_saying``, with
    the prior's evidence at or above ``scoring.MIN_SCORE``); what it leaves out is not in
    the ranking at all."""
    kept = {id(c) for c in scoring.worth_saying(found, snapshot)}
    return [
        value if id(candidate) in kept and evidence >= scoring.MIN_SCORE else NOT_SERVED
        for candidate, value, evidence in zip(found, model, prior, strict=True)
    ]


def evaluate(
    engine: Any,
    truth: dict[str, Truth],
    *,
    cutoff: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
    models: dict[SuggestionKind, Ranker] | None = None,
    into: Scores | None = None,
) -> Scores:
    """Rank every owner as of ``cutoff`` with the model and the baselines; score each
    ranking against what happened (added to ``into`` when given)."""
    scores = into if into is not None else Scores()
    with database.transaction(engine) as session:
        owners = sorted(set(rec_store.owners(session)) | set(truth))
        for owner in owners:
            snapshot = rec_store.load_snapshot(session, owner_id=owner, now=cutoff, horizon=horizon)
            if not snapshot.self_ids:
                scores.unrecognised.add(owner)
            contacts = {c.person_id for c in snapshot.contacts()}
            for kind, found in all_candidates(snapshot).items():
                relevant = relevant_for(kind, truth.get(owner, Truth()), contacts)
                ids = {c.subject_id for c in found}
                scores.outcomes[kind.value] += len(relevant)
                scores.outside[kind.value] += len(relevant - ids)
                if not relevant:
                    continue
                if not relevant & ids:
                    # Every ranking of these candidates scores 0: nothing to compare.
                    scores.left_out[kind.value].append(owner)
                    continue
                rows = matrix(found)
                serving = (models or {}).get(kind)
                prior = scoring.prior_ranker(kind).score(rows).tolist()
                # The prior always, also where it is the model: every ranker then ranks the
                # same owners at every cut-off.
                rankers = {
                    "model": serving.score(rows).tolist() if serving else prior,
                    "prior": prior,
                }
                rankers["served"] = served(found, rankers["model"], prior, snapshot)
                rankers |= {
                    name: fn(snapshot, found) for name, fn in baselines.for_kind(kind).items()
                }
                scores.owners[kind.value].append(owner)
                for name, values in rankers.items():
                    order = sorted(
                        range(len(found)), key=lambda i: (-values[i], found[i].subject_id)
                    )
                    ranked = [found[i].subject_id for i in order if values[i] != NOT_SERVED]
                    bucket = scores.values[kind.value][name]
                    bucket["ndcg@5"].append(ndcg_at(ranked, relevant, 5))
                    bucket["ndcg@10"].append(ndcg_at(ranked, relevant, 10))
                    bucket["precision@5"].append(precision_at(ranked, relevant, 5))
                    bucket["recall@10"].append(recall_at(ranked, relevant, 10))
    return scores


def summarise(scores: Scores) -> dict[str, Any]:
    """Per kind: each ranker's mean metrics, the model's and the served ranking's lead over
    each other ranker, and what could not be scored."""
    report: dict[str, Any] = {}
    for kind_name in sorted(set(scores.values) | set(scores.left_out) | set(scores.outcomes)):
        rankers = scores.values.get(kind_name, {})
        owners = scores.owners.get(kind_name, [])
        left_out = scores.left_out.get(kind_name, [])
        report[kind_name] = {
            "owners": len(set(owners)),
            "rankings": len(owners),
            "outcomes": scores.outcomes.get(kind_name, 0),
            "outcomes_outside_candidates": scores.outside.get(kind_name, 0),
            # (owner, cut-off) rankings left out, and owners left out at every cut-off.
            "rankings_left_out": len(left_out),
            "owners_left_out": len(set(left_out) - set(owners)),
            "rankers": {
                name: {m: round(mean(v), 4) for m, v in metrics.items()}
                for name, metrics in rankers.items()
            },
            "model_minus": {
                name: _difference(rankers["model"]["ndcg@10"], metrics["ndcg@10"], owners)
                for name, metrics in rankers.items()
                if name != "model"
            },
            "served_minus": {
                name: _difference(rankers["served"]["ndcg@10"], metrics["ndcg@10"], owners)
                for name, metrics in rankers.items()
                if name not in ("model", "served") and "served" in rankers
            },
        }
    return report


def _difference(model: list[float], other: list[float], owners: list[str]) -> dict[str, Any]:
    """NDCG@10 of the model minus another ranker's, over the same rankings, with its 95%
    bootstrap interval over owners."""
    difference, low, high = paired_difference(model, other, groups=owners)
    return {"ndcg@10": round(difference, 4), "ci95": [round(low, 4), round(high, 4)]}


def run(
    lines: Iterable[str],
    *,
    cutoff: datetime | Sequence[datetime],
    horizon: timedelta,
    model_dir: Path | None = None,
    train_first: bool = False,
) -> dict[str, Any]:
    """``run_envelopes`` of the envelopes among ``lines``."""
    envelopes, bad = read(lines)
    return run_envelopes(
        envelopes,
        bad=bad,
        cutoff=cutoff,
        horizon=horizon,
        model_dir=model_dir,
        train_first=train_first,
    )


def run_envelopes(
    envelopes: Sequence[Any],
    *,
    bad: int = 0,
    cutoff: datetime | Sequence[datetime],
    horizon: timedelta,
    model_dir: Path | None = None,
    train_first: bool = False,
) -> dict[str, Any]:
    """Evaluate at each cut-off (one, or several in time order). With ``train_first``,
    models are first trained on backtests of the history before the cut-off (nothing after
    it) and promoted into ``model_dir`` (a scratch store per cut-off when none is given)
    when they beat the serving model on their own held-out weeks."""
    cutoffs = sorted([cutoff] if isinstance(cutoff, datetime) else cutoff)
    if not cutoffs:
        raise ValueError("no cut-off to evaluate at")
    scores = Scores()
    training: list[dict[str, Any]] = []
    versions: dict[str, dict[str, str]] = {}
    for moment, engine, truth in replay_at(envelopes, cutoffs=cutoffs, horizon=horizon):
        models: dict[SuggestionKind, Ranker] = {}
        with tempfile.TemporaryDirectory() as scratch:
            store = model_dir or Path(scratch)
            if train_first:
                snapshots = snapshots_at(engine, moment, horizon)
                first = train.first_fact(snapshots, default=moment)
                results = train.train(
                    snapshots,
                    start=first,
                    end=moment,
                    horizon=horizon,
                    store=store,
                )
                training += [
                    {
                        "cutoff": moment.isoformat(),
                        "kind": r.kind.value,
                        "promoted": r.promoted,
                        "reason": r.reason,
                        **r.metrics,
                    }
                    for r in results
                ]
            if store.exists():
                models = dict(artefacts.load_current(store))
            evaluate(engine, truth, cutoff=moment, horizon=horizon, models=models, into=scores)
        versions[moment.isoformat()] = {
            kind.value: ranker.version for kind, ranker in scoring.serving_rankers(models).items()
        }
    return {
        "cutoff": cutoffs[-1].isoformat(),
        "cutoffs": [c.isoformat() for c in cutoffs],
        "horizon_days": horizon.total_seconds() / 86400,
        "models": versions[cutoffs[-1].isoformat()],
        "models_by_cutoff": versions,
        "training": training,
        "unreadable_lines": bad,
        "owners_not_recognised": sorted(scores.unrecognised),
        "kinds": summarise(scores),
    }


def notes(report: dict[str, Any]) -> list[str]:
    """What a reader of the table must know: lines that were not input, owners never
    recognised, outcomes no candidate covered, rankings left out, why training did not
    promote."""
    out = []
    if report["unreadable_lines"]:
        out.append(
            f"{report['unreadable_lines']} line(s) were not an input envelope and were skipped"
        )
    unrecognised = report["owners_not_recognised"]
    if unrecognised:
        shown = ", ".join(unrecognised[:5]) + (" …" if len(unrecognised) > 5 else "")
        out.append(
            f"warning: {len(unrecognised)} owner(s) never recognised as themselves (no GoalsSet "
            f"address of theirs in the data): {shown}"
        )
    for kind, result in report["kinds"].items():
        if result["outcomes_outside_candidates"]:
            out.append(
                f"{kind}: {result['outcomes_outside_candidates']} of {result['outcomes']} "
                "outcomes were not among the candidates (they count against every ranker)"
            )
        if result["rankings_left_out"]:
            out.append(
                f"{kind}: {result['rankings_left_out']} (owner, cut-off) ranking(s) left out, "
                f"{result['owners_left_out']} owner(s) at every cut-off: what they did was not "
                "among the candidates, so no ranking can score"
            )
    for cutoff, versions in report["models_by_cutoff"].items():
        served = ", ".join(f"{kind} by {version}" for kind, version in sorted(versions.items()))
        out.append(f"served at {cutoff}: {served}")
    for result in report["training"]:
        verdict = "promoted" if result["promoted"] else "not promoted"
        out.append(
            f"training {result['kind']} at {result['cutoff']}: {verdict}: {result['reason']}"
        )
    return out


class BadArguments(ValueError):
    """An argument ``evaluate`` cannot use, said in one line."""


HORIZON_UNITS = {"s": "seconds", "h": "hours", "d": "days", "w": "weeks"}


def parse_horizon(text: str) -> timedelta:
    """``30d``, ``4w``, ``12h``, ``900s``: a positive amount and one unit."""
    amount, unit = text.strip()[:-1], text.strip()[-1:].lower()
    try:
        value = float(amount)
    except ValueError:
        value = float("nan")
    if unit not in HORIZON_UNITS or not value > 0 or value == float("inf"):
        raise BadArguments(
            f"horizon {text!r} is not an amount with a unit: use s, h, d or w, e.g. 30d or 12h"
        )
    return timedelta(**{HORIZON_UNITS[unit]: value})


def parse_cutoff(text: str) -> datetime:
    """An ISO time with its time zone: a cut-off without one would mean something else on
    every machine."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadArguments(
            f"cut-off {text!r} is not an ISO time, e.g. 2026-06-01T00:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise BadArguments(
            f"cut-off {text!r} has no time zone: add one, e.g. {moment.isoformat()}+00:00"
        )
    return moment


def read_input(path: Path) -> tuple[list[Any], int]:
    """The input envelopes of a file and how many lines were not one, or one line saying why
    there is nothing to use."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BadArguments(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadArguments(f"{path}: is a folder, not a JSONL file") from None
    except UnicodeDecodeError:
        raise BadArguments(f"{path}: not a UTF-8 text file of JSON lines") from None
    except OSError as error:
        raise BadArguments(f"{path}: cannot be read ({error.strerror})") from None
    envelopes, bad = read(lines)
    if not envelopes:
        raise BadArguments(
            f"{path}: no line is an input envelope (one JSON object a line, as on the input topics)"
        )
    return envelopes, bad
