"""Which custom headers carry credentials, and how their values are masked and kept."""

from __future__ import annotations

import pytest

from hookline.domain import secret_headers
from hookline.domain.secret_headers import MASK, credential_names, is_credential, mask, restore


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "proxy-authorization",
        "Cookie",
        "Api-Key",
        "X-Api-Key",
        "x-apikey",
        "X-Auth-Token",
        "X-Gitlab-Token",
        "PRIVATE-TOKEN",
        "X-Client-Secret",
        "X-Password",
    ],
)
def test_credential_headers_are_recognised_by_name_whatever_their_case(name: str) -> None:
    assert is_credential(name)
    assert is_credential(name.upper()) and is_credential(name.lower())


@pytest.mark.parametrize(
    "name", ["Content-Type", "Accept-Encoding", "X-Team", "X-Request-Id", "User-Agent"]
)
def test_other_headers_are_not_credentials(name: str) -> None:
    assert not is_credential(name)


def test_a_header_marked_secret_is_a_credential_whatever_the_case_of_the_mark() -> None:
    assert not is_credential("X-Tenant")
    assert is_credential("X-Tenant", ["x-tenant"])
    assert credential_names({"X-Tenant": "t1", "X-Team": "ops"}, ["X-TENANT"]) == {"X-Tenant"}


def test_masking_replaces_only_credential_values() -> None:
    headers = {"Authorization": "Bearer s3cret", "X-Team": "ops", "X-Tenant": "t1"}
    assert mask(headers, ["X-Tenant"]) == {
        "Authorization": MASK,
        "X-Team": "ops",
        "X-Tenant": MASK,
    }
    assert headers["Authorization"] == "Bearer s3cret"  # the input is left alone


def test_sending_the_mask_back_keeps_the_stored_value_whatever_the_name_s_case() -> None:
    stored = {"Authorization": "Bearer s3cret", "X-Team": "ops"}
    sent = {"authorization": MASK, "X-Team": "billing", "X-New": "1"}
    assert restore(sent, stored) == {
        "authorization": "Bearer s3cret",
        "X-Team": "billing",
        "X-New": "1",
    }


def test_the_mask_for_a_header_with_no_stored_value_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="X-Api-Key"):
        restore({"X-Api-Key": MASK}, {"Authorization": "Bearer s3cret"})


def test_masked_lists_the_headers_whose_value_is_the_mask() -> None:
    assert secret_headers.masked({"Authorization": MASK, "X-Team": "ops"}) == ["Authorization"]
