"""The routes every job goes through, registered ahead of the others that share their path
prefix.

aiohttp's ``UrlDispatcher`` files each resource under its path up to the first variable
(``/api/v1/jobs`` for ``/api/v1/jobs/{job_id}``) and tries the resources filed under a
request's path in the order they were added, each through a coroutine and a regular
expression. A job status read came eleventh of the thirteen under ``/api/v1/jobs`` (the
files, history, events and human routes first), a worker's poll fourth under
``/_worker/workers``. No other route matches these paths, so trying them first changes which
route answers no request: ``app.py`` adds this table before every other.
"""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
