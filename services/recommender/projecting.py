"""The recommender's projection: network updates and feedback into its own tables, and
each owner marked to be scored again (the scheduler scores them, debounced)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.recommender import store
from shared.broker import Decoded
from shared.messages import FeedbackGiven
from shared.unit_of_work import UnitOfWork


def project_batch(work: UnitOfWork, batch: list[Decoded]) -> list[str]:
    """Project a batch in ``work``; the owners it changed, each marked changed as of the
    oldest input behind the batch's messages (its time and correlation id)."""
    now = datetime.now(UTC)
    changes: list[tuple[str, Any]] = []
    for item in batch:
        envelope = item.envelope
        if isinstance(envelope.data, FeedbackGiven):
            store.record_feedback(
                work,
                owner_id=envelope.owner_id,
                suggestion_id=envelope.data.suggestion_id,
                action=envelope.data.action.value,
                at=envelope.time,
            )
        else:
            changes += [(envelope.owner_id, change) for change in envelope.data.changes]
    store.apply_changes(work, changes)
    oldest: dict[str, tuple[datetime, str | None]] = {}
    for item in batch:
        envelope = item.envelope
        earliest = oldest.get(envelope.owner_id)
        if earliest is None or envelope.time < earliest[0]:
            oldest[envelope.owner_id] = (envelope.time, envelope.correlation_id or envelope.id)
    store.mark_changed(work, inputs=oldest, at=now)
    return list(oldest)
