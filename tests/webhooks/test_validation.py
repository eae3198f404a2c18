"""``webhook_url`` is checked when the job is created: scheme, host, allow-list, webhooks on."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, assert_error, client_headers
from tests.webhooks.conftest import MakeApp, outbox_entries

ALLOWED = ("hooks.example.com", "*.corp.example")


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/x",
        "http://HOOKS.example.com:8443/x?y=1",
        "https://a.corp.example/x",
        "https://deep.a.corp.example/x",
    ],
)
async def test_allowed_hosts_are_accepted(make_app: MakeApp, url: str) -> None:
    api = await make_app(webhook_allowed_hosts=ALLOWED)

    await api.create(webhook_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "https://evil.example/x",
        "https://corp.example/x",  # *.corp.example names subdomains only
        "https://hooks.example.com.evil.example/x",
        "https://evilcorp.example/x",
    ],
)
async def test_a_host_off_the_allow_list_is_400_naming_webhook_url(
    make_app: MakeApp, url: str
) -> None:
    api = await make_app(webhook_allowed_hosts=ALLOWED)

    resp = await api.client.post(
        "/api/v1/greeting", json={"webhook_url": url}, headers=client_headers()
    )

    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"] == {"field": "webhook_url"}
    assert "allowed" in err["message"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "http:///x",
        "http://exa mple.com/x",
        "http://example.com:99999/x",
        "http://[::1/x",
        "https://example.com/\n",
        "https://example.com/" + "a" * 2100,
        ["https://example.com"],
    ],
)
async def test_a_malformed_url_is_400_naming_webhook_url(api: Api, url: object) -> None:
    resp = await api.client.post(
        "/api/v1/greeting", json={"webhook_url": url}, headers=client_headers()
    )

    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"] == {"field": "webhook_url"}


async def test_without_a_webhook_secret_webhook_urls_are_refused(make_app: MakeApp) -> None:
    api = await make_app(webhook_secret="")

    resp = await api.client.post(
        "/api/v1/greeting", json={"webhook_url": "https://x.example/"}, headers=client_headers()
    )

    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"] == {"field": "webhook_url"}
    assert "webhook_secret" in err["message"]
    await api.create()  # jobs without a webhook are fine
    assert await outbox_entries(api) == []
