"""The shapes on the wire: request and response models that the REST API and the dashboard's
forms both parse into and render from, and the wording of their validation errors. Parsing only:
the rules those values obey live in ``hookline.domain`` and ``hookline.services``."""
