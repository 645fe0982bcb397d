"""Which webhooks a worker claims for, and which claimed deliveries it keeps (pure logic).

Each webhook may have up to its cap (:mod:`hookline.delivery.caps`) in flight and as many again
waiting; a failing webhook holds no more than it may send, and failing webhooks together hold at
most their share of the worker. A webhook at its limit is left out of the next claim, and a
claim leases no more of each webhook than its room (see :meth:`Admission.rooms`); whatever still
comes back beyond it is given back.
"""

from __future__ import annotations

from collections.abc import Collection

from hookline.delivery.caps import Caps
from hookline.delivery.holding import Holding
from hookline.domain.models import Claimed


class Admission:
    def __init__(self, caps: Caps, holding: Holding) -> None:
        self._caps = caps
        self._holding = holding
        self._backlogged: set[str] = set()  # had deliveries given back; out until half done

    def hold_cap(self, webhook_id: str) -> int:
        """How many deliveries of a webhook this worker may hold: its cap in flight and as many
        waiting; a failing webhook holds no more than it may send."""
        limit = self._caps.limit(webhook_id)
        return limit if self._caps.is_failing(webhook_id) else 2 * limit

    def saturated(self) -> list[str]:
        """Webhooks to leave out of the next claim.

        A webhook holding its cap is out. One that had a backlog given back stays out until
        half of what it holds is done (hysteresis): re-claiming it for every freed slot would
        lease and give back a whole batch per delivery. Failing webhooks are all out while
        they hold their share of the worker.
        """
        held = self._holding.held
        self._backlogged = {w for w in self._backlogged if held.get(w, 0) > self.hold_cap(w) // 2}
        full = {w for w, n in held.items() if n >= self.hold_cap(w)}
        if self._failing_held() >= self._caps.failing_share:
            full |= self._caps.failing
        return sorted(full | self._backlogged)

    def rooms(self, excluded: Collection[str]) -> tuple[dict[str, int], int]:
        """How many more deliveries the next claim may lease per webhook: for each held or
        failing webhook not in ``excluded``, and (the second value) for any other.

        The claim leases no more than that, so a webhook's backlog is not leased only to be
        given back; :meth:`split` still checks what comes back.
        """
        held = self._holding.held
        rooms = {
            w: max(0, self.hold_cap(w) - held.get(w, 0))
            for w in {*held, *self._caps.failing}  # held has no zero counts
            if w not in excluded
        }
        failing_room = max(0, self._caps.failing_share - self._failing_held())
        for w in self._caps.failing:
            if w in rooms:
                rooms[w] = min(rooms[w], failing_room)
        return rooms, 2 * self._caps.start

    def split(self, claimed: list[Claimed]) -> tuple[list[Claimed], list[str]]:
        """The claimed deliveries to keep, and the ids of those to give back at once.

        One claim can return a whole backlog of one webhook, more than its cap: kept, they would
        take the slots every other webhook is waiting for.
        """
        held = self._holding.held
        room = {
            c.webhook.id: self.hold_cap(c.webhook.id) - held.get(c.webhook.id, 0) for c in claimed
        }
        failing_room = self._caps.failing_share - self._failing_held()
        keep: list[Claimed] = []
        excess: list[str] = []
        for item in claimed:
            webhook_id = item.webhook.id
            room[webhook_id] -= 1
            failing = self._caps.is_failing(webhook_id)
            if failing:
                failing_room -= 1
            if room[webhook_id] >= 0 and (not failing or failing_room >= 0):
                keep.append(item)
            else:
                excess.append(item.delivery.id)
            if room[webhook_id] <= 0:
                # Full, and more may be waiting: out until half is done, like a give-back.
                self._backlogged.add(webhook_id)
        return keep, excess

    def _failing_held(self) -> int:
        held = self._holding.held
        return sum(held.get(w, 0) for w in self._caps.failing)
