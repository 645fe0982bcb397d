"""The ``hookline`` command: serve | worker | migrate | workspace | generate-key | listen | flow."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from typing import IO, Any, TypeVar

import click

from hookline import __version__
from hookline.errors import HooklineError
from hookline.settings import DEFAULT_DATABASE_URL, Settings, parse_networks

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover - uvloop is a dependency on every supported OS
        return asyncio.run(coro)


def database_option(func: F) -> F:
    return click.option(
        "--database-url",
        envvar="HOOKLINE_DATABASE_URL",
        show_envvar=True,
        default=DEFAULT_DATABASE_URL,
        show_default=True,
        help="sqlite:///PATH or postgresql://user@host/db",
    )(func)


def settings_from(**overrides: Any) -> Settings:
    try:
        return Settings.from_env().with_overrides(**overrides)
    except HooklineError as exc:
        raise click.UsageError(str(exc)) from exc


def _worker_options(func: F) -> F:
    func = click.option(
        "--concurrency",
        type=click.IntRange(1, 10_000),
        envvar="HOOKLINE_WORKER_CONCURRENCY",
        show_envvar=True,
        default=200,
        show_default=True,
        help="Requests in flight at once per worker.",
    )(func)
    return click.option(
        "--allowed-networks",
        envvar="HOOKLINE_ALLOWED_NETWORKS",
        show_envvar=True,
        default="",
        help="Comma-separated CIDRs deliveries may reach although private/loopback "
        "(e.g. 10.0.0.0/8,127.0.0.1/32). Everything non-public is refused otherwise.",
    )(func)


@click.group()
@click.version_option(__version__, prog_name="hookline")
@click.option(
    "--log-level",
    envvar="HOOKLINE_LOG_LEVEL",
    show_envvar=True,
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def main(log_level: str) -> None:
    """Hookline: self-hosted webhooks, signed, retried, inspectable."""
    from hookline.logs import configure

    configure(log_level.upper())


@main.command()
@click.option(
    "--host", envvar="HOOKLINE_HOST", show_envvar=True, default="127.0.0.1", show_default=True
)
@click.option(
    "--port", envvar="HOOKLINE_PORT", show_envvar=True, default=8000, show_default=True, type=int
)
@database_option
@_worker_options
@click.option(
    "--no-worker",
    is_flag=True,
    envvar="HOOKLINE_NO_WORKER",
    show_envvar=True,
    help="Run the API alone (workers run as `hookline worker`).",
)
@click.option(
    "--admin-token",
    envvar="HOOKLINE_ADMIN_TOKEN",
    show_envvar=True,
    default=None,
    help="Admin bearer token. Unset: one is generated at first start and printed once.",
)
def serve(
    host: str,
    port: int,
    database_url: str,
    concurrency: int,
    allowed_networks: str,
    no_worker: bool,
    admin_token: str | None,
) -> None:
    """Run the API and (unless --no-worker) an embedded delivery worker."""
    from hookline.service import Roles, run

    settings = settings_from(
        database_url=database_url,
        worker_concurrency=concurrency,
        allowed_networks=parse_networks(allowed_networks) or None,
        admin_token=admin_token,
    )
    _guard(lambda: _run(run(settings, Roles(api=True, worker=not no_worker, host=host, port=port))))


@main.command()
@database_option
@_worker_options
@click.option(
    "--metrics-port",
    envvar="HOOKLINE_METRICS_PORT",
    show_envvar=True,
    type=int,
    default=None,
    help="Serve this worker's Prometheus metrics on this port.",
)
def worker(
    database_url: str, concurrency: int, allowed_networks: str, metrics_port: int | None
) -> None:
    """Run a delivery worker only (start as many as you like, on as many machines)."""
    from hookline.service import Roles, run

    settings = settings_from(
        database_url=database_url,
        worker_concurrency=concurrency,
        allowed_networks=parse_networks(allowed_networks) or None,
    )
    roles = Roles(api=False, worker=True, metrics_port=metrics_port)
    _guard(lambda: _run(run(settings, roles)))


@main.command()
@database_option
def migrate(database_url: str) -> None:
    """Apply pending schema migrations."""
    from hookline.store.migrate import upgrade

    settings = settings_from(database_url=database_url)
    _guard(lambda: upgrade(settings.database_url))
    click.echo("database schema is current")


@main.group()
def workspace() -> None:
    """Manage workspaces (tenants)."""


@workspace.command("create")
@click.argument("name")
@database_option
def workspace_create(name: str, database_url: str) -> None:
    """Create a workspace; prints its id and a new API key (shown once)."""
    from hookline.service import prepare_database
    from hookline.store import open_store
    from hookline.tenancy import create_workspace

    settings = settings_from(database_url=database_url)

    async def go() -> None:
        await prepare_database(settings)
        store = await open_store(settings)
        try:
            ws, token = await create_workspace(store, name)
        finally:
            await store.close()
        click.echo(f"workspace_id: {ws.id}")
        click.echo(f"api_key: {token}")

    _guard(lambda: _run(go()))


@main.command("generate-key")
def generate_key() -> None:
    """Print a new key for HOOKLINE_SECRET_KEY (encrypts webhook secrets at rest)."""
    from hookline.secretbox import SecretBox

    click.echo(SecretBox.generate_key())


@main.command("verify")
@click.option(
    "--scheme",
    required=True,
    type=click.Choice(["standard", "svix", "github", "hub-sha1", "sha256-hex", "timestamped"]),
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    required=True,
    envvar="HOOKLINE_VERIFY_SECRET",
    show_envvar=True,
    help="The webhook's secret; repeat during a rotation.",
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


@main.command("listen")
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
    from hookline.listen import ListenConfig, listen

    config = ListenConfig(api_url, token, workspace, forward, bin_id, interval)
    _guard(lambda: _run(listen(config)))


def _guard(action: Callable[[], object]) -> None:
    try:
        action()
    except HooklineError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


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


@main.group()
def flow() -> None:
    """Copy flows: export one with its webhooks to JSON, import it here or elsewhere."""


@flow.command("export")
@click.argument("flow_id")
@click.option(
    "--include-secrets",
    is_flag=True,
    help="Include the webhooks' signing secrets (keep the file as safe as the secrets).",
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


if __name__ == "__main__":  # pragma: no cover
    main()
