"""The ``flow`` group: export a flow with its webhooks to JSON and import it, through the API of a
running Hookline."""

from __future__ import annotations

import json
from typing import IO, Any

import click

from hookline.cli._common import F, _run


def _api_options(func: F) -> F:
    """--api-url, --token and --workspace: the commands that talk to a running Hookline."""
    options = (
        click.option(
            "--api-url",
            envvar="HOOKLINE_API_URL",
            show_envvar=True,
            default="http://127.0.0.1:8000",
            show_default=True,
            help="Where Hookline's API answers.",
        ),
        click.option(
            "--token",
            envvar="HOOKLINE_TOKEN",
            show_envvar=True,
            required=True,
            help="A workspace API key (or the admin token).",
        ),
        click.option(
            "--workspace",
            envvar="HOOKLINE_WORKSPACE",
            show_envvar=True,
            required=True,
            help="The workspace id.",
        ),
    )
    for option in reversed(options):
        func = option(func)
    return func


@click.group()
def flow() -> None:
    """Copy flows: export one with its webhooks to JSON, import it here or elsewhere."""


@flow.command("export")
@click.argument("flow_id")
@click.option(
    "--include-secrets",
    is_flag=True,
    help="Include the webhooks' signing secrets and credential header values, which are"
    " otherwise masked (keep the file as safe as the secrets).",
)
@_api_options
def flow_export(
    flow_id: str, include_secrets: bool, api_url: str, token: str, workspace: str
) -> None:
    """Print a flow as a portable JSON document: hookline flow export FLOW_ID > flow.json"""
    from urllib.parse import quote

    path = f"/flows/{quote(flow_id, safe='')}/export"
    if include_secrets:
        path += "?include_secrets=true"
    document = _run(_call_api(api_url, token, workspace, "GET", path))
    click.echo(json.dumps(document, indent=2))


@flow.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--name", default=None, help="Import under this flow name instead.")
@_api_options
def flow_import(file: IO[str], name: str | None, api_url: str, token: str, workspace: str) -> None:
    """Recreate a flow and its webhooks from FILE (written by `flow export`; - for stdin).

    Nothing is created when the flow's or a webhook's name is taken: the conflicts are listed.
    """
    try:
        document = json.load(file)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="FILE") from None
    if not isinstance(document, dict):
        raise click.BadParameter("not a flow export document", param_hint="FILE")
    if name:
        document["name"] = name
    result = _run(_call_api(api_url, token, workspace, "POST", "/flows/import", document))
    click.echo(f"flow_id: {result['flow']['id']}")
    for hook in result["webhooks"]:
        click.echo(f"webhook: {hook['id']} {hook['name']}")
        if hook.get("secret"):
            click.echo(f"  new signing secret (shown once): {hook['secret']}")
    for created in result["created_event_types"]:
        click.echo(f"event type created: {created}")
    for left in result.get("headers_left_out", []):
        click.echo(
            f"header left out (exported masked; set its value): {left['webhook']} {left['header']}"
        )
    for left in result.get("passwords_left_out", []):
        click.echo(
            f"password left out (exported masked; set it): {left['webhook']} {left['field']}"
        )


async def _call_api(
    api_url: str, token: str, workspace: str, method: str, path: str, body: object = None
) -> Any:
    """One request to the workspace's API; an error answer becomes a ClickException."""
    from urllib.parse import quote

    import aiohttp

    url = f"{api_url.rstrip('/')}/v1/workspaces/{quote(workspace, safe='')}{path}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http,
            http.request(method, url, json=body, headers=headers) as response,
        ):
            status, data = response.status, await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise click.ClickException(f"{method} {url}: {exc!r}") from exc
    if status >= 400:
        raise click.ClickException(_api_error_text(status, data))
    return data


def _api_error_text(status: int, data: Any) -> str:
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return f"the API answered {status}"
    lines = [f"{status} {error.get('code')}: {error.get('message')}"]
    lines += [f"  conflict: {c['type']} {c['name']!r}" for c in error.get("conflicts") or []]
    return "\n".join(lines)
