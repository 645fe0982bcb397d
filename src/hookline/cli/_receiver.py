"""Receiver-side tools: ``verify`` checks a captured request's signature, ``listen`` forwards a
bin's captured requests to a local app."""

from __future__ import annotations

import sys

import click

from hookline.cli._common import _guard, _run


@click.command("verify")
@click.option(
    "--scheme",
    required=True,
    type=click.Choice(
        ["standard", "svix", "github", "hub-sha1", "sha256-hex", "timestamped", "ed25519"]
    ),
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    required=True,
    envvar="HOOKLINE_VERIFY_SECRET",
    show_envvar=True,
    help="The webhook's secret (ed25519: its whpk_ public key); repeat during a rotation.",
)
@click.option("--url", default=None, help="Full request URL (timestamped GET/DELETE sign it).")
@click.option(
    "--tolerance", default=300, show_default=True, type=int, help="Max timestamp age, seconds."
)
def verify_command(scheme: str, secrets: tuple[str, ...], url: str | None, tolerance: int) -> None:
    """Check a captured raw HTTP request (read from stdin) against a secret."""
    from hookline import verify as receiver

    try:
        raw = sys.stdin.buffer.read()
        request = receiver.parse_raw_http_request(raw)
        full_url = url or f"https://{request.headers.get('Host', 'localhost')}{request.target}"
        receiver.verify(
            scheme,
            request.body,
            request.headers,
            list(secrets),
            method=request.method,
            url=full_url,
            tolerance=tolerance,
        )
    except (receiver.VerificationError, ValueError) as exc:
        click.echo(f"invalid: {exc}", err=True)
        sys.exit(1)
    click.echo(f"valid {scheme} signature ({request.method} {request.target})")


@click.command("listen")
@click.option(
    "--api-url",
    envvar="HOOKLINE_API_URL",
    show_envvar=True,
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where Hookline's API answers.",
)
@click.option(
    "--token",
    envvar="HOOKLINE_TOKEN",
    show_envvar=True,
    required=True,
    help="A workspace API key (or the admin token).",
)
@click.option(
    "--workspace",
    envvar="HOOKLINE_WORKSPACE",
    show_envvar=True,
    required=True,
    help="The workspace id (ws_…).",
)
@click.option(
    "--bin",
    "bin_id",
    envvar="HOOKLINE_BIN",
    show_envvar=True,
    default=None,
    help="An existing bin's id. Unset: a new bin is created and its capture URL printed.",
)
@click.option(
    "--forward",
    envvar="HOOKLINE_FORWARD",
    show_envvar=True,
    required=True,
    help="Your local app's URL, e.g. http://127.0.0.1:3000/hooks.",
)
@click.option(
    "--interval",
    envvar="HOOKLINE_LISTEN_INTERVAL",
    show_envvar=True,
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.05, 3600),
    help="Seconds between polls.",
)
def listen_command(
    api_url: str, token: str, workspace: str, bin_id: str | None, forward: str, interval: float
) -> None:
    """Forward every request a bin captures to a local app, one line each (Ctrl-C stops)."""
    from hookline.cli.listen import ListenConfig, listen

    config = ListenConfig(api_url, token, workspace, forward, bin_id, interval)
    _guard(lambda: _run(listen(config)))
