"""The features a ranker scores, as a matrix: the prior's scaled features of a candidate,
then the raw facts behind them (a learned model may weigh those differently).

Serving, training and evaluation build their rows here, so a model always sees columns
in the order it learned them.
"""

from __future__ import annotations

import math

import numpy as np

from services.recommender import features as f
from services.recommender import prior
from services.recommender.candidates import Candidate
from shared.messages.recommendations import SuggestionKind

EXTRA = {
    SuggestionKind.RECONNECT: (
        "log_silence",
        "log_usual_gap",
        "log_meetings",
        *(f"log_intensity_{h:g}" for h in f.INTENSITY_HALF_LIVES),
        "alive",
    ),
    SuggestionKind.INTRODUCTION: ("log_mutual", "log_linked_ties", "log_link_strength"),
    SuggestionKind.EVENT: ("log_contacts", "log_targets", "log_companions"),
    SuggestionKind.GIVE_BACK: ("log_received", "log_given"),
}
"""Raw facts behind the prior's scaled features, which a learned model may weigh differently.
Times are in horizons, so a model learned on one unit of time ranks another alike."""


def feature_names(kind: SuggestionKind) -> tuple[str, ...]:
    return (*prior.FEATURES[kind], *EXTRA[kind])


def _log(value: float) -> float:
    """The log of a time in horizons, kept finite: a thousandth of a horizon is one sitting."""
    return math.log(max(value, f.SHORTEST_GAP))


def vector(candidate: Candidate) -> list[float]:
    ctx = candidate.context
    extra = {
        "log_silence": _log(ctx.get("silence", 0.0)),
        "log_usual_gap": _log(ctx.get("usual_gap", 0.0) or f.DEFAULT_CADENCE),
        "log_meetings": math.log1p(ctx.get("meetings", 0.0)),
        **{
            f"log_intensity_{h:g}": math.log1p(ctx.get(f"intensity_{h:g}", 0.0))
            for h in f.INTENSITY_HALF_LIVES
        },
        "alive": ctx.get("alive", 0.0),
        "log_mutual": math.log1p(ctx.get("mutual", 0.0)),
        "log_linked_ties": math.log1p(ctx.get("linked_ties", 0.0)),
        "log_link_strength": math.log1p(ctx.get("link_strength", 0.0)),
        "log_contacts": math.log1p(ctx.get("contacts", 0.0)),
        "log_targets": math.log1p(ctx.get("targets", 0.0)),
        "log_companions": math.log1p(ctx.get("companions", 0.0)),
        "log_received": math.log1p(ctx.get("received", 0.0)),
        "log_given": math.log1p(ctx.get("given", 0.0)),
    }
    return [
        *(candidate.features[n] for n in prior.FEATURES[candidate.kind]),
        *(extra[n] for n in EXTRA[candidate.kind]),
    ]


def matrix(found: list[Candidate]) -> np.ndarray:
    return np.array([vector(c) for c in found], dtype=float)
