"""Inside a consumer's batch the publisher's confirmations go to the batch's commit;
elsewhere, and once the batch is over, the publisher waits for them itself."""

from __future__ import annotations

import asyncio

from shared.commits import collecting_confirmations, defer_confirmation


def test_confirmations_are_collected_only_while_the_batch_runs() -> None:
    async def scenario() -> tuple[bool, bool, bool, int]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        outside = defer_confirmation([future])
        with collecting_confirmations() as collected:
            inside = defer_confirmation([future])
            leaked = asyncio.get_running_loop().create_future()

            async def later() -> bool:  # a task started in the batch, outliving it
                await leaked
                return defer_confirmation([future])

            task = asyncio.ensure_future(later())
        leaked.set_result(None)
        return outside, inside, await task, len(collected)

    outside, inside, after_the_batch, collected = asyncio.run(scenario())
    assert (outside, inside, after_the_batch) == (False, True, False)
    assert collected == 1
