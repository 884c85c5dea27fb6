from __future__ import annotations

from services.notifier.choosing import choose, headline
from shared.messages.recommendations import RankedItem, SuggestionKind


def item(kind: str, rank: int, score: float, subject: str | None = None) -> RankedItem:
    return RankedItem(
        suggestion_id=f"{kind}-{rank}",
        kind=SuggestionKind(kind),
        subject_id=subject or f"{kind}-s{rank}",
        subject_name=f"{kind} {rank}",
        introducer_name="Erik" if kind == "introduction" else None,
        score=score,
        rank=rank,
        reasons=["because"],
    )


ITEMS = (
    [item("reconnect", r, 0.9 - r / 100) for r in range(1, 6)]
    + [item("event", r, 0.7 - r / 100) for r in range(1, 4)]
    + [item("introduction", r, 0.6 - r / 100) for r in range(1, 3)]
)


def test_budget_takes_each_kinds_best_in_turn() -> None:
    chosen = choose(ITEMS, remaining=5, already_chosen=[], cooling_subjects=[])
    assert [c.suggestion_id for c in chosen] == [
        "reconnect-1",
        "event-1",
        "introduction-1",
        "reconnect-2",
        "event-2",
    ]


def test_no_more_than_the_remaining_budget_and_nothing_when_spent() -> None:
    assert len(choose(ITEMS, remaining=2, already_chosen=[], cooling_subjects=[])) == 2
    assert choose(ITEMS, remaining=0, already_chosen=[], cooling_subjects=[]) == []


def test_already_chosen_ids_and_subjects_in_cool_down_are_skipped() -> None:
    chosen = choose(
        ITEMS, remaining=3, already_chosen=["reconnect-1"], cooling_subjects=["event-s1"]
    )
    assert [c.suggestion_id for c in chosen] == ["reconnect-2", "event-2", "introduction-1"]


def test_one_subject_appears_once_even_under_two_kinds() -> None:
    items = [
        item("reconnect", 1, 0.9, subject="anna"),
        item("give_back", 1, 0.8, subject="anna"),
        item("event", 1, 0.5),
    ]
    chosen = choose(items, remaining=3, already_chosen=[], cooling_subjects=[])
    assert [c.subject_id for c in chosen] == ["anna", "event-s1"]


def test_headlines_read_as_actions() -> None:
    assert headline(item("introduction", 1, 0.5)) == "Ask Erik to introduce you to introduction 1"
    assert headline(item("reconnect", 1, 0.5)).startswith("Get back in touch with")
