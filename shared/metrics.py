"""Prometheus helpers shared by the services."""

from __future__ import annotations

import collections
from collections.abc import Hashable, Iterable

from prometheus_client import Counter


def count_each(counter: Counter, labels: Iterable[Hashable]) -> None:
    """Increment ``counter`` once for each item of ``labels`` (a label value, or a tuple of
    them). Counted per label first: a labelled child's look-up costs more than the count,
    and a batch repeats the same few labels thousands of times."""
    for label, count in collections.Counter(labels).items():
        values = label if isinstance(label, tuple) else (label,)
        counter.labels(*values).inc(count)
