"""The peer: Celery on a Redis broker, one task per delivery, sent with ``requests``.

Configured the way a careful team would run webhooks on Celery: late acknowledgement (a task
is redelivered if its worker dies), automatic retries with backoff on network errors and
non-2xx answers, no result backend. ``celery -A bench.celery_app worker …`` runs it.
"""

from __future__ import annotations

import os

import requests
from celery import Celery
from requests.adapters import HTTPAdapter

BROKER = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/15")

app = Celery("hookline_bench", broker=BROKER)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_ignore_result=True,
    worker_prefetch_multiplier=int(os.environ.get("BENCH_CELERY_PREFETCH", "4")),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)

_session: requests.Session | None = None


def session() -> requests.Session:
    """One pooled session per worker process (created after the prefork fork)."""
    global _session
    if _session is None:
        _session = requests.Session()
        size = int(os.environ.get("BENCH_CELERY_POOL", "100"))
        _session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=size))
    return _session


@app.task(  # type: ignore[untyped-decorator]  # celery ships no type hints
    name="bench.deliver",
    acks_late=True,
    autoretry_for=(requests.RequestException,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=7,
)
def deliver(url: str, body: str, headers: dict[str, str]) -> None:
    response = session().post(url, data=body.encode(), headers=headers, timeout=30)
    response.raise_for_status()
