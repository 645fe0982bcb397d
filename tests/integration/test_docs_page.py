"""``/docs``: Swagger UI from the package, under the dashboard's Content-Security-Policy."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import Service, started


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    async for svc in started(f"sqlite:///{tmp_path}/hookline.db"):
        yield svc


def _assert_locked_down(headers: Mapping[str, str]) -> None:
    policy = headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"  # 'Try it out' calls this origin only
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "http" not in policy  # no other origin is allowed anything
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_docs_page_loads_only_from_this_origin(service: Service) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(service.url + "/docs") as r:
            assert r.status == 200
            assert r.content_type == "text/html"
            _assert_locked_down(r.headers)
            html = await r.text()
        assert "<script>" not in html and "style=" not in html  # nothing inline
        assert not re.search(r"(https?:)?//", html), "an absolute or other-origin URL"
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert {a.rsplit("/", 1)[1] for a in assets} >= {
            "swagger-ui-bundle.js",
            "swagger-ui.css",
            "docs.js",
        }
        for asset in assets:
            async with http.get(service.url + asset) as r:
                assert r.status == 200, asset
                assert len(await r.read()) > 100, asset
                if asset.startswith("/docs/"):
                    _assert_locked_down(r.headers)
                    kind = "text/css" if asset.endswith(".css") else "text/javascript"
                    assert r.content_type == kind, asset


async def test_docs_serve_a_swagger_ui_that_renders_openapi_3_1(service: Service) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(service.url + "/openapi.json") as r:
            assert r.status == 200
            assert (await r.json())["openapi"].startswith("3.1")
        async with http.get(service.url + "/docs/assets/swagger-ui-bundle.js") as r:
            bundle = await r.text()
        # Swagger UI renders OpenAPI 3.1 from version 5 on.
        version = re.search(r'PACKAGE_VERSION:"(\d+)\.\d+\.\d+"', bundle)
        assert version and int(version.group(1)) >= 5
        async with http.get(service.url + "/docs/assets/other.js") as r:
            assert r.status == 404
            assert (await r.json())["error"]["code"] == "not_found"


async def test_the_openapi_document_declares_the_bearer_token(service: Service) -> None:
    """Clients generated from the document send the token, and the docs' Authorize button
    takes it; the health checks stay public."""
    async with service.http.get(service.url + "/openapi.json") as r:
        document = await r.json()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"bearer": []}]
    assert document["paths"]["/healthz"]["get"]["security"] == []
    assert "security" not in document["paths"]["/v1/workspaces"]["get"]  # the global one
