"""The inspector's request and response bodies (their JSON names are the contract), and the
errors the capture URL answers (defined in ``hookline.errors``)."""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hookline import verify as receiver
from hookline.domain import forwarding
from hookline.domain.capture_headers import refused_header
from hookline.domain.models import check_header, check_url
from hookline.domain.nul import NoNulModel
from hookline.domain.timefmt import iso
from hookline.errors import (
    BinFull,
    BinQuotaExceeded,
    MethodTooLong,
    TooManyBins,
    WorkspaceQuotaExceeded,
)
from hookline.store.bins import Bin, CapturedRequest, ReplayResult

__all__ = [
    "BinFull",
    "BinIn",
    "BinOut",
    "BinQuotaExceeded",
    "CapturedReplayIn",
    "CapturedReplayOut",
    "MethodTooLong",
    "RequestOut",
    "TooManyBins",
    "VerifyIn",
    "VerifyOut",
    "WorkspaceQuotaExceeded",
    "captured_url",
]


class BinIn(NoNulModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="inspector", min_length=1, max_length=200)
    response_status: int = Field(default=200, ge=100, le=599)
    response_delay_seconds: float = Field(default=0.0, ge=0, le=30)
    response_headers: dict[str, str] = Field(default_factory=dict, max_length=50)
    response_body: str = Field(default="", max_length=65_536)
    max_requests: int = Field(default=500, ge=1, le=10_000)
    when_full: Literal["refuse", "drop_oldest"] = Field(
        default="refuse",
        description="When a capture would exceed max_requests or the byte quotas: refuse it "
        "(429), or delete the bin's oldest captures to make room.",
    )
    ttl_seconds: float = Field(default=7 * 24 * 3600, gt=0, le=30 * 24 * 3600)

    @field_validator("response_headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header_value in value.items():
            check_header(name, header_value)
            if refused_header(name):
                raise ValueError(
                    f"header {name!r} cannot be set by a bin: capture answers may not set "
                    "cookies or headers that apply to the whole origin"
                )
        return value


class VerifyIn(NoNulModel):
    model_config = ConfigDict(extra="forbid")

    scheme: str = Field(description=f"One of {', '.join(receiver.SCHEMES)}.")
    secret: str | None = None
    secrets: list[str] | None = Field(default=None, min_length=1, max_length=10)
    tolerance: float | None = Field(
        default=None,
        gt=0,
        description="Max signature age in seconds, judged at the time the request arrived; "
        "omitted: no freshness check.",
    )

    @model_validator(mode="after")
    def _one_secret_field(self) -> VerifyIn:
        if (self.secret is None) == (self.secrets is None):
            raise ValueError("give either secret or secrets")
        return self


class CapturedReplayIn(NoNulModel):
    """Where to send a captured request again (a webhook's replay is ``ReplayIn``)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_url(value)


class BinOut(BaseModel):
    id: str
    name: str
    capture_url: str = Field(description="Send anything here; every method is captured.")
    response_status: int
    response_delay_seconds: float
    response_headers: dict[str, str]
    response_body: str
    max_requests: int
    when_full: str
    request_count: int
    byte_count: int = Field(description="Bytes the bin's captures take (bodies and headers).")
    expires_at: str | None
    created_at: str | None

    @classmethod
    def of(cls, found: Bin, base: str) -> BinOut:
        return cls(
            id=found.id,
            name=found.name,
            capture_url=f"{base}/in/{found.id}",
            **asdict(found.config),
            request_count=found.request_count,
            byte_count=found.byte_count,
            expires_at=iso(found.expires_at),
            created_at=iso(found.created_at),
        )


class CapturedReplayOut(BaseModel):
    """What the target answered to a captured request sent again."""

    id: str
    url: str
    at: str | None
    status: int | None
    headers: dict[str, str]
    body_excerpt: str
    duration_ms: float
    error_class: str | None
    error_message: str | None

    @classmethod
    def of(cls, result: ReplayResult) -> CapturedReplayOut:
        return cls(**(asdict(result) | {"at": iso(result.at)}))


class RequestOut(BaseModel):
    id: str
    method: str
    path: str = Field(description="The raw path as received, /in/{bin_id} included.")
    subpath: str = Field(description="The part of the path after /in/{bin_id}.")
    query: str
    url: str = Field(description="The full URL the sender used.")
    headers: list[tuple[str, str]] = Field(description="In order, duplicates kept.")
    body_base64: str = Field(description="The exact bytes of the body.")
    body_text: str | None = Field(description="The body, if it is UTF-8.")
    size: int
    source: str
    received_at: str | None
    replays: list[CapturedReplayOut] = Field(description="The latest replays, oldest first.")

    @classmethod
    def of(cls, captured: CapturedRequest, base: str) -> RequestOut:
        r = captured.request
        try:
            text: str | None = r.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return cls(
            id=captured.id,
            method=r.method,
            path=r.path,
            subpath=forwarding.subpath(captured.bin_id, r.path),
            query=r.query,
            url=captured_url(captured, base),
            headers=list(r.headers),
            body_base64=base64.b64encode(r.body).decode("ascii"),
            body_text=text,
            size=len(r.body),
            source=r.source,
            received_at=iso(r.received_at),
            replays=[CapturedReplayOut.of(x) for x in captured.replays],
        )


class VerifyOut(BaseModel):
    valid: bool
    error: str | None = None
    code: str | None = None


def captured_url(captured: CapturedRequest, base: str) -> str:
    """The URL the sender used (what a timestamped GET/DELETE signature covers)."""
    r = captured.request
    return forwarding.captured_url(captured.bin_id, r.path, r.query, base)
