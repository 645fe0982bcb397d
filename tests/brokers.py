"""The real brokers the destination tests publish to, and how a test asks for one.

Each runs on this machine and in CI (RabbitMQ, NATS with JetStream, Redis, Mosquitto). A test
that needs one calls :func:`require_broker`: it skips with the reason when the broker cannot be
reached, and under ``CI=true`` fails instead, so CI never passes without having run them.
"""

from __future__ import annotations

import socket

import pytest

from tests.conftest import IN_CI

RABBITMQ = ("RabbitMQ", 5672)
NATS = ("NATS", 4222)
REDIS = ("Redis", 6379)
MQTT = ("Mosquitto", 1883)

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
NATS_URL = "nats://127.0.0.1:4222"
REDIS_URL = "redis://127.0.0.1:6379/0"
MQTT_URL = "mqtt://127.0.0.1:1883"


def require_broker(broker: tuple[str, int]) -> None:
    """Skip locally when the broker is not listening on 127.0.0.1; fail under CI=true."""
    name, port = broker
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return
    except OSError as exc:
        reason = f"{name} is not reachable on 127.0.0.1:{port} ({exc})"
    if IN_CI:
        pytest.fail(f"{reason}: CI must run the broker destination tests")
    pytest.skip(reason)
