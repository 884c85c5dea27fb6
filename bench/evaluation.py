"""Every evaluation data set, ranked by the model and the baselines, in one table.

``python -m bench.evaluation [--json] [--quick]`` writes each data set (as
``python -m bench.datasets`` does), runs ``springboard evaluate --train`` on it at its
cut-offs (each trained for and ranked on its own, the rankings pooled), and prints NDCG@10
per kind: the model (what served each cut-off: the promoted learned model of a kind, or
the prior where none was promoted), each baseline, whether the model beats them all, and
the model's lead over the best baseline with its 95% bootstrap interval over owners.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import datasets, real_histories
from services.offline import evaluate
from shared.messages import encode
from shared.sample_network import generate

NOW = datetime(2026, 11, 28, tzinfo=UTC)


@dataclass(frozen=True)
class DataSet:
    name: str
    cutoffs: tuple[datetime, ...]
    horizon: timedelta
    owners: int = 1
    scale: float = 1.0

    def envelopes(self) -> list[Any]:
        if self.name == "davis":
            return datasets.davis()
        if self.name in real_histories.HISTORIES:
            return real_histories.envelopes(real_histories.HISTORIES[self.name])
        out = []
        for index in range(self.owners):
            owner = "maria.lindqvist" if self.owners == 1 else f"owner-{index}"
            network = generate(seed=7 + index, scale=self.scale, now=NOW, owner_id=owner)
            out += [e for _, e in network.messages]
        return out

    @property
    def label(self) -> str:
        if self.name == "davis":
            return "Southern Women (networkx)"
        if self.name in real_histories.HISTORIES:
            return real_histories.HISTORIES[self.name].label
        return (
            f"simulator, {self.owners} owner{'s' if self.owners > 1 else ''}, scale {self.scale:g}"
        )


# Horizons that do not overlap: each outcome is scored once.
SIMULATOR_CUTOFFS = tuple(NOW - timedelta(days=d) for d in (120, 90, 60))


def davis_cutoffs() -> tuple[datetime, ...]:
    """Midnight after the first event, then every announcement lead until the last event:
    each event is upcoming and known at exactly one cut-off, and no horizon overlaps."""
    days = sorted(datasets.davis_date(e).replace(hour=0) for e in datasets.DAVIS_DATES)
    moment, out = days[0] + timedelta(days=1), []
    while moment <= days[-1]:
        out.append(moment)
        moment += datasets.DAVIS_ANNOUNCED
    return tuple(out)


DAVIS_CUTOFFS = davis_cutoffs()
MONTH = timedelta(days=30)


def real(name: str) -> DataSet:
    """A real history at its own cut-offs (60/70/80% of its span) and horizon (10%)."""
    cutoffs, horizon = real_histories.cutoffs(real_histories.HISTORIES[name])
    return DataSet(name, cutoffs, horizon)


QUICK = "hospital"
DATA_SETS = (
    DataSet("simulator", SIMULATOR_CUTOFFS, MONTH),
    DataSet("simulator", SIMULATOR_CUTOFFS, MONTH, owners=50, scale=0.5),
    DataSet("simulator", SIMULATOR_CUTOFFS, MONTH, owners=25),
    DataSet("simulator", SIMULATOR_CUTOFFS, MONTH, owners=12, scale=2.0),
    DataSet("davis", DAVIS_CUTOFFS, datasets.DAVIS_ANNOUNCED),
)


def run(data_set: DataSet) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "data.jsonl"
        path.write_bytes(b"".join(encode(e) + b"\n" for e in data_set.envelopes()))
        with path.open() as lines:
            return evaluate.run(
                lines, cutoff=data_set.cutoffs, horizon=data_set.horizon, train_first=True
            )


def rows(data_set: DataSet, report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for kind, result in sorted(report["kinds"].items()):
        if not result["owners"]:
            continue
        ndcg = {name: m["ndcg@10"] for name, m in result["rankers"].items()}
        baselines = {n: v for n, v in ndcg.items() if n not in ("model", "prior", "served")}
        best = max(baselines, key=lambda n: (baselines[n], n))
        out.append(
            {
                "data_set": data_set.label,
                "cutoffs": [c.isoformat() for c in data_set.cutoffs],
                "horizon_days": round(data_set.horizon.total_seconds() / 86400, 4),
                "kind": kind,
                "owners": result["owners"],
                "rankings": result["rankings"],
                "model_versions": [v[kind] for v in report["models_by_cutoff"].values()],
                "ndcg@10": ndcg,
                "beats_every_baseline": all(ndcg["model"] > v for v in baselines.values()),
                "best_baseline": best,
                "model_minus_best": result["model_minus"][best],
                # What the recommender publishes: the model's ranking less the candidates
                # without a grounded reason or at the score floor.
                "served_minus_best": result["served_minus"][best],
                "served_over_best": round(ndcg["served"] / baselines[best], 3)
                if baselines[best]
                else None,
                "outcomes": result["outcomes"],
                "outcomes_outside_candidates": result["outcomes_outside_candidates"],
                "rankings_left_out": result["rankings_left_out"],
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument(
        "--quick", action="store_true", help="the smallest data sets (one real history) only"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["simulator", "davis", *real_histories.HISTORIES],
        help="these data sets only",
    )
    args = parser.parse_args()
    chosen = [d for d in DATA_SETS if not args.quick or d.owners * d.scale <= 1]
    for name in real_histories.HISTORIES:
        try:
            chosen.append(real(name))
        except real_histories.MissingData as missing:
            print(f"skipped: {missing}", file=sys.stderr)
    if args.quick:  # of the real histories, the smallest only
        chosen = [d for d in chosen if d.name not in real_histories.HISTORIES or d.name == QUICK]
    if args.only:
        chosen = [d for d in chosen if d.name in args.only]
    table = []
    for data_set in chosen:
        table += rows(data_set, run(data_set))
        print(f"evaluated {data_set.label}", file=sys.stderr, flush=True)
    if args.json:
        for row in table:
            print(json.dumps(row))
        return
    names = sorted({n for row in table for n in row["ndcg@10"]} - {"model", "prior", "served"})
    print(
        "| data set | kind | owners (rankings) | served | model | "
        + " | ".join(names)
        + " | served / best | served - best baseline (95% CI) | outcomes not candidates |"
    )
    print("|---|---|---|---|---|" + "---|" * len(names) + "---|---|---|")
    for row in table:
        values = [f"{row['ndcg@10'][n]:.3f}" if n in row["ndcg@10"] else "-" for n in names]
        recipes = ", ".join(v.split("-", 1)[0] for v in row["model_versions"])
        model = f"{row['ndcg@10']['model']:.3f} ({recipes})"
        gap = row["served_minus_best"]
        low, high = gap["ci95"]
        ratio = f"{row['served_over_best']:.3f}" if row["served_over_best"] else "-"
        print(
            f"| {row['data_set']} | {row['kind']} | {row['owners']} ({row['rankings']}) | "
            f"{row['ndcg@10']['served']:.3f} | {model} | "
            + " | ".join(values)
            + f" | {ratio} ({row['best_baseline']}) | {gap['ndcg@10']:+.3f} "
            f"({low:+.3f} to {high:+.3f}) | "
            f"{row['outcomes_outside_candidates']} of {row['outcomes']} |"
        )


if __name__ == "__main__":
    main()
