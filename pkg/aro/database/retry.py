"""Optimistic-concurrency helpers: read, mutate, conditional write, retry on 412."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aro.database.store import Container, Doc, NotFound, PreconditionFailed

T = TypeVar("T")


async def retry_on_precondition_failed(
    fn: Callable[[], Awaitable[T]], attempts: int = 20, base_delay: float = 0.005, max_delay: float = 0.5
) -> T:
    """Run ``fn`` (which must re-read what it writes) until it does not raise PreconditionFailed,
    at most ``attempts`` times, sleeping a full-jitter exponential backoff between tries."""
    for attempt in range(attempts):
        try:
            return await fn()
        except PreconditionFailed:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(random.uniform(0, min(max_delay, base_delay * 2**attempt)))
    raise AssertionError("unreachable")


async def patch(
    container: Container, partition_key: str, id: str, mutate: Callable[[Doc], None], attempts: int = 20
) -> Doc:
    """Read the document, apply ``mutate`` to it, replace it conditionally; retry on a stale etag."""

    async def once() -> Doc:
        doc = await container.get(partition_key, id)
        if doc is None:
            raise NotFound(f"{container.spec.name}/{id}")
        mutate(doc)
        return await container.replace(doc)

    return await retry_on_precondition_failed(once, attempts)
