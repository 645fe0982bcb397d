"""Which headers a capture bin may answer with.

A bin's answer is served under Hookline's own host name unless capture URLs have their own
origin, so a bin may not set cookies, the origin's security policies, cross-origin grants, nor
the headers a browser applies to the whole origin or acts on without a script. The rule is
checked when a bin is configured (``hookline.wire.bin_schemas``) and again on every answer
(``hookline.api.capture_isolation``), which drops those of bins stored before it.
"""

from __future__ import annotations

__all__ = ["refused_header"]

# Cookies, the origin's security policies, cross-origin grants, and the headers a browser
# remembers for the whole origin (error reporting, alternative services, site data,
# service-worker scope) or acts on without a script (refresh, preloads, credential prompts).
_REFUSED = frozenset(
    {
        "set-cookie",
        "set-cookie2",
        "content-security-policy",
        "content-security-policy-report-only",
        "x-content-type-options",
        "x-frame-options",
        "x-xss-protection",
        "strict-transport-security",
        "referrer-policy",
        "permissions-policy",
        "feature-policy",
        "document-policy",
        "cross-origin-opener-policy",
        "cross-origin-embedder-policy",
        "cross-origin-embedder-policy-report-only",
        "cross-origin-opener-policy-report-only",
        "cross-origin-resource-policy",
        "origin-agent-cluster",
        "clear-site-data",
        "refresh",
        "link",
        "service-worker-allowed",
        "nel",
        "report-to",
        "reporting-endpoints",
        "alt-svc",
        "accept-ch",
        "critical-ch",
        "www-authenticate",
        "proxy-authenticate",
        "timing-allow-origin",
        "x-permitted-cross-domain-policies",
        "x-dns-prefetch-control",
    }
)
_REFUSED_PREFIXES = ("access-control-",)


def refused_header(name: str) -> bool:
    """True for a header a bin may not answer with."""
    lowered = name.lower()
    return lowered in _REFUSED or lowered.startswith(_REFUSED_PREFIXES)
