"""Which address the per-IP limit counts: the peer, or X-Forwarded-For from a trusted proxy."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from aiohttp.test_utils import make_mocked_request

from orchestrator.api.middleware.rate_limit import RateLimiter
from orchestrator.storage.embedded import embedded_store
from tests.api.conftest import make_settings


def ip_of(peer: str | None, forwarded: str | None = None, *proxies: str) -> str:
    transport = mock.Mock()
    transport.get_extra_info.return_value = (peer, 0) if peer is not None else None
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    request = make_mocked_request("GET", "/api/v1/jobs", headers, transport=transport)
    limiter = RateLimiter(make_settings(trusted_proxies=proxies), embedded_store("t"))
    return limiter.client_ip(request)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("203.0.113.9",), "203.0.113.9"),
        (("203.0.113.9", "10.0.0.1"), "203.0.113.9"),  # untrusted peer: header ignored
        (("10.0.0.5", "198.51.100.1", "10.0.0.5"), "198.51.100.1"),
        (("10.0.0.5", "198.51.100.1, 10.0.0.4", "10.0.0.0/24"), "198.51.100.1"),  # two proxies
        (("10.0.0.5", "1.2.3.4, 198.51.100.1", "10.0.0.5"), "198.51.100.1"),  # forged left
        (("10.0.0.5", "not-an-ip", "10.0.0.5"), "10.0.0.5"),  # garbage: the proxy itself
        (("10.0.0.5", None, "10.0.0.5"), "10.0.0.5"),
        (("::ffff:192.0.2.7",), "192.0.2.7"),  # IPv4 seen through a dual-stack socket
        (("2001:db8:1:2:aaaa::1",), "2001:db8:1:2::/64"),
        ((None,), "unknown"),  # e.g. a Unix socket
    ],
)
def test_client_ip(args: tuple[Any, ...], expected: str) -> None:
    assert ip_of(*args) == expected
