"""The web console under ``/console/``: static files of this package, no build step.

The page is a client of the documented JSON API like any other (``docs/console.md``): it
sends the client token the person typed in as ``X-Client-Token``; nothing here reads a token
or any stored data, so the console can do nothing a client could not script.
"""

from __future__ import annotations

from orchestrator.console.routes import PREFIX, routes

__all__ = ["PREFIX", "routes"]
