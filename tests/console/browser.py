"""Headless Chromium for the console's tests, driven by Playwright for Python.

The browser is Debian's ``chromium`` (``executable_path``): Playwright never downloads one,
so the tests run offline. Each page has a browser context of its own (its own
``sessionStorage``, as a second person would have) and records every URL it requested and
every uncaught error of its scripts.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Error, ViewportSize, async_playwright
from playwright.async_api import Page as PwPage
from playwright.async_api import TimeoutError as PwTimeout

__all__ = ["Browser", "Page", "chromium", "chromium_binary", "q", "text_of"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


def chromium_binary() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@asynccontextmanager
async def chromium(binary: str) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=binary,
            # tests run as root in a container; the sandbox needs a user namespace
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            await browser.close()


class Page:
    """One page and what it did: ``requests`` (every URL, in order) and ``console_errors``."""

    def __init__(self, pw: PwPage) -> None:
        self.pw = pw
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        pw.on("request", lambda r: self.requests.append(r.url))
        pw.on("pageerror", lambda exc: self.console_errors.append(str(exc)))

    @classmethod
    async def open(cls, browser: Browser) -> Page:
        context = await browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        return cls(await context.new_page())

    async def goto(self, url: str) -> None:
        # Not waiting for the `load` event: every test then waits for what it looks for.
        await self.pw.goto(url, wait_until="commit")

    async def js(self, expression: str) -> Any:
        return await self.pw.evaluate(expression)

    async def wait(self, expression: str, what: str, timeout: float = 15) -> Any:
        """Waits until ``expression`` is truthy in the page (an expression that throws, say
        on an element not drawn yet, counts as false); fails naming ``what``."""
        guarded = f"() => {{ try {{ return ({expression}); }} catch (e) {{ return false; }} }}"
        try:
            handle = await self.pw.wait_for_function(guarded, timeout=timeout * 1000)
        except PwTimeout:
            last = await self._try(expression)
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what} (last: {last!r}); "
                f"page errors: {self.console_errors}; page text:\n{(await self.text())[:3000]}"
            ) from None
        return await handle.json_value()

    async def _try(self, expression: str) -> Any:
        try:
            return await self.js(expression)
        except Error as exc:
            return str(exc)

    async def text(self) -> str:
        return str(await self._try("document.body ? document.body.innerText : ''"))

    async def fill(self, selector: str, value: str) -> None:
        """Types into a field, as a person would."""
        await self.pw.locator(selector).fill(value)

    async def choose(self, selector: str, value: str) -> None:
        """Picks an option of a select."""
        await self.pw.locator(selector).select_option(value)

    async def click(self, selector: str) -> None:
        await self.pw.locator(selector).click()

    async def press_escape(self) -> None:
        await self.pw.keyboard.press("Escape")

    async def screenshot(self, path: Path, *, full: bool = False, of: str | None = None) -> None:
        """A PNG of the viewport, the whole page (``full``) or one element (``of``)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if of is not None:
            await self.pw.locator(of).screenshot(path=str(path))
        else:
            await self.pw.screenshot(path=str(path), full_page=full)


def q(selector: str) -> str:
    """A JS expression: does ``selector`` match an element?"""
    return f"!!document.querySelector({json.dumps(selector)})"


def text_of(selector: str) -> str:
    return f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent"
