"""The API fixtures (the real app over real Redis) and a reader for the Prometheus text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from tests.api import conftest as api_fixtures
from tests.api.conftest import Api
from tests.helpers import wait_for

api = api_fixtures.api
make_api = api_fixtures.make_api
store_kind = api_fixtures.store_kind


@dataclass(frozen=True)
class Scrape:
    """One scrape of ``/_public/metrics``, parsed by prometheus-client's own parser."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float | None:
        """The sample ``name`` with exactly these labels (None when absent)."""
        return self.samples.get((name, frozenset(labels.items())))

    def count(self, name: str, **labels: str) -> float:
        """A counter's or histogram's count, 0 when the series does not exist yet."""
        return self.value(name, **labels) or 0.0

    def series(self, name: str) -> dict[frozenset[tuple[str, str]], float]:
        return {labels: v for (n, labels), v in self.samples.items() if n == name}


async def scrape(app_api: Api) -> Scrape:
    resp = await app_api.client.get("/_public/metrics")
    text = await resp.text()
    assert resp.status == 200, text
    assert resp.headers["Content-Type"].startswith("text/plain"), resp.headers
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return Scrape(samples)


async def scrape_when(app_api: Api, check: Callable[[Scrape], bool], what: str) -> Scrape:
    """Scrapes until ``check`` holds. A job's new status is readable a round trip before the
    process that stored it has run its observers, so right after a client sees a job end,
    a scrape may not count it yet."""
    last: Scrape | None = None

    async def ready() -> bool:
        nonlocal last
        last = await scrape(app_api)
        return check(last)

    await wait_for(ready, timeout=5.0, what=what)
    assert last is not None
    return last
