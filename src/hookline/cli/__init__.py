"""The ``hookline`` command: serve | worker | migrate | workspace | generate-key | listen | flow.

:mod:`._common` holds the helpers and options the commands share, :mod:`._main` the ``main`` group
and the server-side commands, :mod:`._receiver` ``verify`` and ``listen``, :mod:`._flows` the
``flow`` group.
"""

from __future__ import annotations

from hookline.cli._main import main

__all__ = ["main"]
