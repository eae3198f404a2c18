"""The file routes' query strings answer each case as the hand-written parsing did (see
``tests/api/query_cases.py``): ``filename``, ``expires_in`` (bounded by the settings) and
``via``."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, client_headers
from tests.api.query_cases import Query, answer, compare
from tests.files.bodies import chunks, put_content

EXPIRES = ["", "1", "0", "3600", "604800", "604801", "x", "1.5", "05"]


async def test_same_answers(api: Api) -> None:
    job_id = await api.create()
    resp = await put_content(api, job_id, "a.txt", chunks(10, seed=b"q"))
    assert resp.status == 200, await resp.text()
    upload = f"/api/v1/jobs/{job_id}/files/upload"
    download = f"/api/v1/jobs/{job_id}/files/download/a.txt"
    uploads: list[Query] = [[], [("filename", "")], [("filename", "a/b")]]
    uploads += [[("filename", "b.txt"), ("expires_in", v)] for v in EXPIRES]
    uploads += [[("expires_in", "0"), ("filename", "a/b")], [("expires_in", "0")]]
    downloads: list[Query] = [[("via", v)] for v in ["", "s3", "orchestrator", "ftp", "S3"]]
    downloads += [[("expires_in", v)] for v in EXPIRES]
    downloads += [[("via", "ftp"), ("expires_in", "0")], [("expires_in", "0"), ("via", "ftp")]]
    answers: dict[str, list[Any]] = {}
    for path, queries in ((upload, uploads), (download, downloads)):
        answers[path.replace(job_id, "{job_id}")] = [
            {"query": q, "answer": await answer(api, "GET", path, q, **client_headers())}
            for q in queries
        ]
    compare("files", answers)
