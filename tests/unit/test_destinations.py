"""The pure rules of broker destinations: URLs per kind, the password's mask both ways, the
rendered target and what it may not contain, and how the attempt log names a destination."""

from __future__ import annotations

import pytest

from hookline.domain import destinations as d
from hookline.domain.destinations import MqttAction, NatsAction, RabbitMQAction, RedisAction


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("rabbitmq", "amqp://guest:guest@broker:5672/%2F"),
        ("rabbitmq", "amqps://broker"),
        ("nats", "nats://broker:4222"),
        ("nats", "tls://user:pw@broker"),
        ("redis", "redis://:pw@broker:6379/2"),
        ("redis", "rediss://broker"),
        ("mqtt", "mqtt://broker"),
        ("mqtt", "mqtts://u:p@broker:8883"),
    ],
)
def test_each_kind_takes_its_own_schemes(kind: str, url: str) -> None:
    assert d.check_broker_url(kind, url) == url


@pytest.mark.parametrize(
    ("kind", "url", "said"),
    [
        ("rabbitmq", "http://broker", "amqp:// or amqps://"),
        ("nats", "redis://broker", "nats:// or tls://"),
        ("redis", "redis://broker/db", "database number"),
        ("mqtt", "mqtt://", "host"),
        ("mqtt", "mqtt://broker:99999", "invalid URL"),
        ("mqtt", "mqtt://bro ker", "whitespace"),
    ],
)
def test_bad_urls_say_why(kind: str, url: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        d.check_broker_url(kind, url)


def test_the_password_is_masked_and_restored_only_for_the_same_broker_and_user() -> None:
    stored = "amqp://hook:p%40ss@broker:5672/vhost"
    shown = d.mask_url(stored)
    assert shown == "amqp://hook:%5Bredacted%5D@broker:5672/vhost"
    assert d.is_masked(shown) and not d.is_masked(stored)
    assert d.credentials(stored) == ("hook", "p@ss")
    assert d.restore_url(shown, stored) == stored
    # A changed path (the vhost) keeps the password; a new host, port or user does not.
    assert d.restore_url(shown.replace("/vhost", "/other"), stored).endswith("@broker:5672/other")
    for moved in (shown.replace("broker", "evil"), shown.replace("hook:", "root:")):
        with pytest.raises(ValueError, match="give the password again"):
            d.restore_url(moved, stored)
    with pytest.raises(ValueError, match="none is stored"):
        d.restore_url(shown, None)
    assert d.restore_url("amqp://broker", stored) == "amqp://broker"  # not masked: as sent
    assert d.mask_url("nats://broker:4222") == "nats://broker:4222"
    assert d.without_password(stored) == "amqp://hook@broker:5672/vhost"
    assert d.without_password("redis://:pw@broker/0") == "redis://broker/0"


def test_the_host_is_replaced_by_the_address_to_dial_keeping_everything_else() -> None:
    assert d.with_host("amqp://u:p@broker:5672/v", "10.0.0.7") == "amqp://u:p@10.0.0.7:5672/v"
    assert d.with_host("mqtt://broker", "::1") == "mqtt://[::1]"
    assert d.host_and_port("mqtt", "mqtts://broker") == ("broker", 8883)
    assert d.host_and_port("rabbitmq", "amqp://broker") == ("broker", 5672)


def test_targets_render_folded_and_refuse_wildcards() -> None:
    context = {"type": "task.done", "team": "ops west"}
    assert d.render_target("events.$type.${team}", context) == "events.task.done.opswest"
    assert d.target_problem("nats", "events.>") is not None
    assert d.target_problem("nats", "events..x") is not None
    assert d.target_problem("mqtt", "hooks/+/x") is not None
    assert d.target_problem("mqtt", "hooks/#") is not None
    assert d.target_problem("rabbitmq", "") == "the target rendered empty"
    assert d.target_problem("rabbitmq", "x" * 256) is not None
    assert d.target_problem("rabbitmq", "task.*") is None  # a routing key may hold any text


def test_the_attempt_log_names_the_destination_without_the_password() -> None:
    rabbit = RabbitMQAction(url="amqp://u:pw@b:5672/%2F", exchange="ex", routing_key="$type")
    assert d.describe("rabbitmq", rabbit, "task.done") == (
        "amqp://u@b:5672/%2F?exchange=ex&routing_key=task.done"
    )
    nats = NatsAction(url="nats://b", subject="x.$type")
    assert d.describe("nats", nats, "x.a") == "nats://b?subject=x.a"
    redis = RedisAction(url="redis://:pw@b/0", stream="s", maxlen=10)
    assert d.describe("redis", redis) == "redis://b/0?stream=s&maxlen=~10"
    mqtt = MqttAction(url="mqtt://b", topic="t/$type", qos=2, retain=True)
    assert d.describe("mqtt", mqtt, "t/a") == "mqtt://b?topic=t/a&qos=2&retain=true"
