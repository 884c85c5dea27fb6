"""End-to-end latency alone: ``bench.pipeline``'s latency run, without its throughput runs.

``python -m bench.latency [--quick] [--json]``: 60 owners' small sample networks sent at
200 inputs/s, owner after owner, on the embedded broker; per owner, from its last input
to its first suggestion, the debounce excluded. Quick enough (under a minute) to alternate
two versions of the code several times in one sitting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench import report
from bench.pipeline import latencies_ms
from shared.embedded_broker import EmbeddedBroker


async def measure(quick: bool) -> dict[str, Any]:
    with EmbeddedBroker() as broker:
        latency = np.array(await latencies_ms(broker.bootstrap_servers, 10 if quick else 60, 200))
    return {
        "latency_owners": len(latency),
        "latency_ms_p50": round(float(np.percentile(latency, 50)), 1),
        "latency_ms_p99": round(float(np.percentile(latency, 99)), 1),
        "latency_ms_max": round(float(latency.max()), 1),
    }


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
