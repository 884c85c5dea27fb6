"""Slow and many clients against a real uvicorn server with the services' options: a head or
a body sent a byte at a time is cut off at its deadline, and connections beyond the limit
get 503. Every client here is bounded in count and time, on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from bench import receivers
from shared.embedded_broker import free_port
from shared.http_guard import server_options

pytestmark = pytest.mark.integration


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False) and message["type"] == "http.request"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@contextlib.asynccontextmanager
async def serving(max_connections: int = 200) -> AsyncIterator[int]:
    """The services' uvicorn options, with one-second deadlines."""
    settings = SimpleNamespace(
        http_head_timeout_seconds=1.0,
        http_body_timeout_seconds=1.0,
        http_max_connections=max_connections,
    )
    port = free_port()
    async with receivers.serving(app, port=port, **server_options(settings)):
        yield port


async def send_slowly(
    reader, writer, data: bytes, *, seconds_per_byte: float, limit: float
) -> float:
    """Send ``data`` a byte at a time; seconds until the server closed the connection."""
    started = time.monotonic()
    try:
        for byte in data:
            if time.monotonic() - started > limit:
                break
            writer.write(bytes([byte]))
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(1024), seconds_per_byte) == b"":
                    break
    except ConnectionError:
        pass
    finally:
        writer.close()
    return time.monotonic() - started


async def trickle(port: int, data: bytes, *, seconds_per_byte: float, limit: float) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return await send_slowly(reader, writer, data, seconds_per_byte=seconds_per_byte, limit=limit)


async def test_a_slow_head_and_a_slow_body_are_cut_off() -> None:
    async with serving() as port:
        head = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\nX-Padding: " + b"y" * 60
        cut = await asyncio.gather(
            *(trickle(port, head, seconds_per_byte=0.2, limit=8) for _ in range(3))
        )
        assert all(seconds < 4 for seconds in cut), cut  # a 1 s deadline, not 8 s of bytes
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n")
        await writer.drain()
        body = await send_slowly(reader, writer, b"z" * 50, seconds_per_byte=0.2, limit=8)
        assert body < 4


async def test_a_prompt_client_is_served() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(1024), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200")


async def test_connections_beyond_the_limit_get_503() -> None:
    async with serving(max_connections=3) as port:
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(1024), 5)
        writer.close()
        for _, w in idle:
            w.close()
        assert answer.startswith(b"HTTP/1.1 503")
