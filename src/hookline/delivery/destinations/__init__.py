"""Publishing deliveries to message brokers (RabbitMQ, NATS JetStream, Redis Streams, MQTT).

:mod:`.message` builds a message from the same parts as an HTTP request; :mod:`.pool` holds one
connection per broker URL and publishes through the kind's module (:mod:`.rabbitmq`,
:mod:`.nats`, :mod:`.redis_streams`, :mod:`.mqtt`, each importing its client library only when
used); :mod:`hookline.delivery.attempt` turns the broker's answer into an attempt record.
See ``docs/destinations.md``.
"""
