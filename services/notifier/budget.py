"""Which ranked items become suggestions: budget, no repeats, cool-down, a mix of kinds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared.messages.recommendations import RankedItem


def choose(
    items: Sequence[RankedItem],
    *,
    remaining: int,
    already_chosen: Iterable[str],
    cooling_subjects: Iterable[str],
) -> list[RankedItem]:
    """Up to ``remaining`` items, taking each kind's best in turn (kinds ordered by their
    best score), skipping suggestion ids already chosen and subjects in cool-down."""
    if remaining <= 0:
        return []
    seen_ids = set(already_chosen)
    cooling = set(cooling_subjects)
    queues: dict[str, list[RankedItem]] = {}
    for item in sorted(items, key=lambda i: (i.kind.value, i.rank)):
        if item.suggestion_id in seen_ids or item.subject_id in cooling:
            continue
        queues.setdefault(item.kind.value, []).append(item)
    order = sorted(queues, key=lambda kind: -queues[kind][0].score)
    chosen: list[RankedItem] = []
    subjects: set[str] = set()
    while len(chosen) < remaining and any(queues[k] for k in order):
        for kind in order:
            while queues[kind]:
                item = queues[kind].pop(0)
                if item.subject_id not in subjects:
                    chosen.append(item)
                    subjects.add(item.subject_id)
                    break
            if len(chosen) == remaining:
                break
    return chosen


def headline(item: RankedItem) -> str:
    match item.kind.value:
        case "reconnect":
            return f"Get back in touch with {item.subject_name}"
        case "introduction":
            return f"Ask {item.introducer_name} to introduce you to {item.subject_name}"
        case "event":
            return f"Attend {item.subject_name}"
        case _:
            return f"Return the favour to {item.subject_name}"
