"""Client: AsyncClient's coroutines run on a private event loop in a background thread."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from hookline.client._async import AsyncClient

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


def _blocking(
    method: Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Client, P], R]:
    """The Client method that runs an AsyncClient method on the client's loop and waits."""

    @functools.wraps(method)  # its name, docstring and (through __wrapped__) signature
    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._run(method(self._async, *args, **kwargs))

    call.__qualname__ = f"Client.{method.__name__}"
    return call


def _blocking_iter(
    method: Callable[Concatenate[AsyncClient, P], AsyncIterator[T]],
) -> Callable[Concatenate[Client, P], Iterator[T]]:
    """The same for an async iterator: each step runs on the client's loop."""

    @functools.wraps(method)
    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self._iterate(method(self._async, *args, **kwargs))

    call.__qualname__ = f"Client.{method.__name__}"
    return call


async def _step(items: AsyncIterator[T]) -> tuple[T, ...]:
    # The end is a value, (), rather than StopAsyncIteration raised through the future.
    try:
        return (await anext(items),)
    except StopAsyncIteration:
        return ()


class Client:
    """The Hookline API of one workspace, for synchronous code; thread-safe.

    Every method is :class:`AsyncClient`'s, run on a private event loop in a background
    thread; arguments, results and errors are the same. Use ``with`` or ``close()``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        workspace_id: str,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self._async = AsyncClient(
            base_url,
            api_key,
            workspace_id=workspace_id,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="hookline-client", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session and stop the background thread; calling it again is harmless."""
        if self._loop.is_closed():
            return
        try:
            self._run(self._async.close())
            self._run(self._loop.shutdown_asyncgens())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    publish = _blocking(AsyncClient.publish)
    publish_batch = _blocking(AsyncClient.publish_batch)
    create_webhook = _blocking(AsyncClient.create_webhook)
    create_destination = _blocking(AsyncClient.create_destination)
    get_webhook = _blocking(AsyncClient.get_webhook)
    update_webhook = _blocking(AsyncClient.update_webhook)
    delete_webhook = _blocking(AsyncClient.delete_webhook)
    list_webhooks = _blocking(AsyncClient.list_webhooks)
    iter_webhooks = _blocking_iter(AsyncClient.iter_webhooks)
    test_webhook = _blocking(AsyncClient.test_webhook)
    rotate_secret = _blocking(AsyncClient.rotate_secret)
    replay = _blocking(AsyncClient.replay)
    create_event_type = _blocking(AsyncClient.create_event_type)
    list_event_types = _blocking(AsyncClient.list_event_types)
    delete_event_type = _blocking(AsyncClient.delete_event_type)
    list_deliveries = _blocking(AsyncClient.list_deliveries)
    iter_deliveries = _blocking_iter(AsyncClient.iter_deliveries)
    get_delivery = _blocking(AsyncClient.get_delivery)
    retry_delivery = _blocking(AsyncClient.retry_delivery)
    create_portal_link = _blocking(AsyncClient.create_portal_link)
    revoke_portal_links = _blocking(AsyncClient.revoke_portal_links)

    def _run(self, coro: Coroutine[Any, Any, R]) -> R:
        if self._loop.is_closed() or threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("this Hookline client is closed, or called from its own loop")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        finally:
            future.cancel()  # no-op once done; stops the request if we were interrupted

    def _iterate(self, items: AsyncIterator[T]) -> Iterator[T]:
        while step := self._run(_step(items)):
            yield step[0]
