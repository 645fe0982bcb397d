"""The pure domain: records, identifiers, filters, templates, signing, retry, aggregation windows
and the outgoing-address policy. Nothing here touches a database, a socket or a web framework;
``tests/unit/test_layout.py`` pins that (it imports nothing of ``hookline.store``,
``hookline.api``, ``hookline.delivery``, ``hookline.services`` or ``hookline.runtime``)."""
