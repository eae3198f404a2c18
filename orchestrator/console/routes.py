"""``GET /console/`` and the files it loads, straight from the package directory."""

from __future__ import annotations

import re
from importlib import resources

from aiohttp import web

from orchestrator.errors import NotFound

PREFIX = "/console"

routes = web.RouteTableDef()

_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# Only plain names of our own files: no directories, no dot files, so nothing outside
# static/ can be named however the path is spelled.
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\.(?:html|js|css|svg|png)")

# The page talks to its own origin only: scripts, styles, images and connections from
# elsewhere are refused by the browser, so a mistake (or an injected string) cannot load
# anything from another host. No inline scripts either.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'none'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def _file(name: str) -> bytes:
    if not _NAME.fullmatch(name):
        raise NotFound(f"no console file {name!r}")
    path = resources.files("orchestrator.console").joinpath("static", name)
    if not path.is_file():
        raise NotFound(f"no console file {name!r}")
    return path.read_bytes()


def _answer(name: str) -> web.Response:
    body = _file(name)
    suffix = name[name.rfind(".") :]
    response = web.Response(body=body, content_type=_TYPES[suffix])
    if suffix == ".html" or suffix == ".js":
        response.charset = "utf-8"
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    # Revalidate every time: after an upgrade the page and its modules must not mix versions.
    response.headers["Cache-Control"] = "no-cache"
    return response


@routes.get(PREFIX)
async def bare(request: web.Request) -> web.StreamResponse:
    # Relative module paths resolve against the trailing slash.
    raise web.HTTPFound(f"{PREFIX}/")


@routes.get(f"{PREFIX}/")
async def index(request: web.Request) -> web.Response:
    return _answer("index.html")


@routes.get(PREFIX + "/{name}")
async def static(request: web.Request) -> web.Response:
    return _answer(request.match_info["name"])
