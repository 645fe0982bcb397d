"""Identifiers: ULID bodies in Crockford base32, increasing within a process."""

from __future__ import annotations

import random

from hookline.domain import ids


def _reference(value: int, length: int) -> str:
    """Crockford base32, most significant character first (the ULID spec's encoding)."""
    return "".join(ids._ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(length)))


def test_the_body_is_the_time_then_the_random_part_in_crockford_base32() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        ms, rand = rng.getrandbits(48), rng.getrandbits(80)
        assert ids._ulid(ms, rand) == _reference(ms, 10) + _reference(rand, 16)


def test_consecutive_values_are_encoded_right_across_carries() -> None:
    # Consecutive ids share their first 22 characters, which are cached: check the values
    # around a carry into them, and a change of millisecond.
    ms = 1_800_000_000_000
    for rand in [*range(2**20 - 1500, 2**20 + 1500), *range(2**40 - 3, 2**40 + 3)]:
        assert ids._ulid(ms, rand) == _reference(ms, 10) + _reference(rand, 16)
    assert ids._ulid(ms + 1, 5) == _reference(ms + 1, 10) + _reference(5, 16)


def test_known_answer() -> None:
    # The ULID spec's example time 1469918176385 ms encodes as 01ARYZ6S41.
    assert ids._ulid(1469918176385, 0) == "01ARYZ6S41" + "0" * 16


def test_ids_made_in_one_process_strictly_increase() -> None:
    made = [ids.new_id("dlv") for _ in range(5000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(len(i) == len("dlv_") + 26 for i in made)


def test_a_floor_id_sorts_below_every_id_made_at_or_after_its_time() -> None:
    floor = ids.new_id("evt", at=1_800_000_000.0, floor=True)
    assert floor == "evt_" + ids._ulid(1_800_000_000_000, 0)
    assert ids.new_id("evt") > ids.new_id("evt", at=1.0, floor=True)
