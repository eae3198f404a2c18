"""A small driver of headless Chromium over its DevTools protocol (a WebSocket, spoken with
aiohttp): no browser download, no extra package. Debian's ``chromium`` is the browser."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium_binary() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class CdpError(AssertionError):
    pass


class Browser:
    """One Chromium process; pages are targets on its single WebSocket (flat sessions)."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.binary = binary
        self.profile = profile
        self.proc: asyncio.subprocess.Process | None = None
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.listeners: dict[str, list[Callable[[str, dict[str, Any]], None]]] = {}
        self.reader: asyncio.Task[None] | None = None
        self.log = profile / "chromium.log"

    async def start(self, timeout: float = 30) -> None:
        self.profile.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "--headless",
            "--no-sandbox",  # tests run as root in a container; the sandbox needs a user ns
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",  # no update, safe-browsing or metrics calls
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--metrics-recording-only",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-port=0",  # the browser picks a free port and writes it down
            "--window-size=1280,800",
            "about:blank",
        ]
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                *args, stdout=out, stderr=asyncio.subprocess.STDOUT
            )
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.returncode is not None:
                raise CdpError(f"chromium exited at start:\n{self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise CdpError(f"chromium wrote no DevToolsActivePort in {timeout}s")
            await asyncio.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if "id" in data:
                fut = self.pending.pop(data["id"], None)
                if fut is not None and not fut.done():
                    if "error" in data:
                        fut.set_exception(CdpError(f"CDP error: {data['error']}"))
                    else:
                        fut.set_result(data.get("result", {}))
            else:
                for fn in self.listeners.get(data.get("method", ""), []):
                    fn(data.get("sessionId", ""), data.get("params", {}))
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(CdpError("the browser closed its DevTools connection"))

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        assert self.ws is not None
        msg_id = next(self.ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[msg_id] = fut
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.ws.send_str(json.dumps(message))
        result: dict[str, Any] = await asyncio.wait_for(fut, 30)
        return result

    def on(self, method: str, fn: Callable[[str, dict[str, Any]], None]) -> None:
        self.listeners.setdefault(method, []).append(fn)

    async def new_page(self) -> Page:
        # A context of its own per page: its own sessionStorage, as a second person would have.
        ctx = await self.send("Target.createBrowserContext")
        target = await self.send(
            "Target.createTarget",
            {"url": "about:blank", "browserContextId": ctx["browserContextId"]},
        )
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, attached["sessionId"])
        await page.setup()
        return page

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.send("Browser.close"), 5)
            except (CdpError, TimeoutError, ConnectionError):
                pass
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
        if self.session is not None:
            await self.session.close()
        if self.proc is not None:
            if self.proc.returncode is None:
                self.proc.kill()
            await self.proc.wait()


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session
        self.requests: list[str] = []
        """Every URL the page asked for (Network.requestWillBeSent), in order."""
        self.console_errors: list[str] = []

    async def setup(self) -> None:
        def request(session: str, params: dict[str, Any]) -> None:
            if session == self.session:
                self.requests.append(params["request"]["url"])

        def exception(session: str, params: dict[str, Any]) -> None:
            if session == self.session:
                details = params.get("exceptionDetails", {})
                text = details.get("exception", {}).get("description") or details.get("text")
                self.console_errors.append(str(text))

        self.browser.on("Network.requestWillBeSent", request)
        self.browser.on("Runtime.exceptionThrown", exception)
        await self.send("Network.enable")
        await self.send("Runtime.enable")
        await self.send("Page.enable")
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        )

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.send(method, params, self.session)

    async def goto(self, url: str) -> None:
        result = await self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CdpError(f"navigating to {url}: {result['errorText']}")

    async def js(self, expression: str) -> Any:
        """The value of ``expression`` (awaited if a promise); a page exception fails."""
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CdpError(f"page error in {expression!r}: {text}")
        return result.get("result", {}).get("value")

    async def wait(self, expression: str, what: str, timeout: float = 15) -> Any:
        """Waits until ``expression`` is truthy in the page; fails naming ``what``."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            try:
                last = await self.js(expression)
            except CdpError as exc:  # e.g. during a navigation
                last = str(exc)
            else:
                if last:
                    return last
            if time.monotonic() > deadline:
                text = await self.text()
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what} (last: {last!r}); "
                    f"page errors: {self.console_errors}; page text:\n{text[:3000]}"
                )
            await asyncio.sleep(0.05)

    async def text(self) -> str:
        try:
            return str(await self.js("document.body ? document.body.innerText : ''"))
        except CdpError as exc:
            return f"(no text: {exc})"

    async def fill(self, selector: str, value: str) -> None:
        """Sets a field's value as typing would, so its input/change listeners run; waits
        for the field to be there first (views draw after their first API answer)."""
        await self.wait(f"!!document.querySelector({json.dumps(selector)})", selector)
        done = await self.js(
            f"""(() => {{
              const el = document.querySelector({json.dumps(selector)});
              if (!el) return false;
              el.focus();
              el.value = {json.dumps(value)};
              el.dispatchEvent(new Event('input', {{bubbles: true}}));
              el.dispatchEvent(new Event('change', {{bubbles: true}}));
              return true;
            }})()"""
        )
        if not done:
            raise AssertionError(f"no element {selector!r} to fill; page:\n{await self.text()}")

    async def click(self, selector: str) -> None:
        await self.wait(f"!!document.querySelector({json.dumps(selector)})", selector)
        done = await self.js(
            f"""(() => {{
              const el = document.querySelector({json.dumps(selector)});
              if (!el) return false;
              el.click();
              return true;
            }})()"""
        )
        if not done:
            raise AssertionError(f"no element {selector!r} to click; page:\n{await self.text()}")

    async def press_escape(self) -> None:
        """A real key press (through the browser's input pipeline, as a keyboard sends)."""
        key = {"key": "Escape", "code": "Escape", "windowsVirtualKeyCode": 27}
        await self.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **key})
        await self.send("Input.dispatchKeyEvent", {"type": "keyUp", **key})

    async def screenshot(self, path: Path, *, full: bool = False) -> None:
        """A PNG of the viewport, or with ``full`` of the whole page."""
        params: dict[str, Any] = {"format": "png"}
        if full:
            size = (await self.send("Page.getLayoutMetrics"))["cssContentSize"]
            params["captureBeyondViewport"] = True
            params["clip"] = {
                "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1
            }  # fmt: skip
        shot = await self.send("Page.captureScreenshot", params)
        data = base64.b64decode(shot["data"])

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        await asyncio.to_thread(write)
