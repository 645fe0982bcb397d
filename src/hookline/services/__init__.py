"""The operations a user performs, each in one place: the REST API, the dashboard and the CLI
are adapters over these (parse, call, render). Services take plain typed values, return domain
records and raise domain errors (``hookline.errors``)."""
