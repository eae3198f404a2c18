"""The shipped deployment (docker-compose.yml, deploy/) agrees with docs/deployment.md."""

from __future__ import annotations

import ipaddress

import yaml

from orchestrator.config_sources import load_settings
from tests.helpers import ROOT


def test_only_the_proxy_is_trusted_for_x_forwarded_for() -> None:
    """docs/deployment.md: trusted_proxies is the proxy's address, not whole private ranges."""
    settings = load_settings({}, ROOT / "deploy" / "orchestrator.yaml")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    proxy = compose["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    [pool] = compose["networks"]["default"]["ipam"]["config"]

    trusted = [ipaddress.ip_network(p) for p in settings.http.trusted_proxies]
    assert trusted == [ipaddress.ip_network(f"{proxy}/32")]
    assert ipaddress.ip_address(proxy) in ipaddress.ip_network(pool["subnet"])
    # Other containers draw from ip_range: none of them can take the proxy's address.
    assert ipaddress.ip_address(proxy) not in ipaddress.ip_network(pool["ip_range"])
