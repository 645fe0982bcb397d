"""The ``portal-link`` group: make a link that opens the customer portal for one workspace, and
revoke every link of a workspace, on the database directly (no running Hookline needed; a
running one honours the change at its next portal request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from hookline.cli._common import _guard, _run, database_option, opened_store

F = TypeVar("F", bound=Callable[..., Any])

#: Who the audit log says made or revoked links from the command line.
CLI_ACTOR = "command line"
_PER_RUN = "Per run only: no environment variable sets it."


@click.group("portal-link")
def portal_link() -> None:
    """Customer-portal links: a URL that opens the portal for one workspace, to send a customer
    to or to frame in your product."""


def _workspace_option(func: F) -> F:
    return click.option(
        "--workspace",
        "workspace_id",
        required=True,
        metavar="WS",
        help=f"The workspace the link opens (its id). {_PER_RUN}",
    )(func)


@portal_link.command("create")
@_workspace_option
@click.option(
    "--expires-in",
    type=int,
    default=3600,
    show_default=True,
    metavar="SECONDS",
    help=f"How long the link is valid: 60 to 604800 (7 days). {_PER_RUN}",
)
@click.option(
    "--read-only", is_flag=True, help=f"The customer may look and change nothing. {_PER_RUN}"
)
@click.option(
    "--event-type",
    "event_types",
    multiple=True,
    metavar="TYPE",
    help="An event type (or 'prefix.*') the customer may see and subscribe to; repeat it for "
    f"several. None given: every type. {_PER_RUN}",
)
@click.option(
    "--feature-flag",
    "feature_flags",
    multiple=True,
    metavar="FLAG",
    help="A feature flag of the link: the catalog's event types with feature flags are shown "
    f"only to a link with one of theirs; repeat it for several. {_PER_RUN}",
)
@click.option(
    "--destination-kind",
    "destination_kinds",
    multiple=True,
    metavar="KIND",
    help="A broker kind (rabbitmq, nats, redis or mqtt) whose endpoints the customer may see "
    "and create besides HTTP webhooks; repeat it for several. None given: HTTP endpoints only. "
    f"{_PER_RUN}",
)
@click.option(
    "--user",
    default=None,
    help=f"Who will use the link (an e-mail address, a user id), for the audit log. {_PER_RUN}",
)
@click.option(
    "--base-url",
    envvar="HOOKLINE_PUBLIC_URL",
    show_envvar=True,
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where Hookline is served, as the customer's browser reaches it.",
)
@database_option
def portal_link_create(
    workspace_id: str,
    expires_in: int,
    read_only: bool,
    event_types: tuple[str, ...],
    feature_flags: tuple[str, ...],
    destination_kinds: tuple[str, ...],
    user: str | None,
    base_url: str,
    database_url: str,
) -> None:
    """Make a link and print its URL (the token is in it: shown once, hand it to one customer).
    Its id and expiry go to stderr, so `URL=$(hookline portal-link create …)` keeps the URL."""
    from hookline.domain.portal_access import LinkDraft
    from hookline.domain.timefmt import iso
    from hookline.services.portal import create_link, portal_url

    draft = LinkDraft(
        expires_in, read_only, event_types or None, None, user, feature_flags, destination_kinds
    )

    async def go() -> None:
        async with opened_store(database_url) as store:
            link, token = await create_link(store, workspace_id, draft, CLI_ACTOR)
        click.echo(f"portal link {link.id} valid until {iso(link.expires_at)}", err=True)
        click.echo(portal_url(base_url, token))

    _guard(lambda: _run(go()))


@portal_link.command("revoke")
@_workspace_option
@database_option
def portal_link_revoke(workspace_id: str, database_url: str) -> None:
    """Revoke every link of the workspace: each portal page opened with one shows "link
    expired" at its next request."""
    from hookline.services.portal import revoke_links

    async def go() -> None:
        async with opened_store(database_url) as store:
            count = await revoke_links(store, workspace_id, CLI_ACTOR)
        noun = "link" if count == 1 else "links"
        click.echo(f"revoked {count} portal {noun} of workspace {workspace_id}")

    _guard(lambda: _run(go()))
