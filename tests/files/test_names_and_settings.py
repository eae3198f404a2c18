"""File names that may become S3 keys, and the S3 settings (file, environment, checks)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api.files import check_filename
from orchestrator.config import ClientToken, Settings
from orchestrator.config_sources import load_settings
from orchestrator.errors import ConfigError

GOOD = ["report.pdf", "a b.txt", "ñandú.png", ".hidden", "x" * 255, "a.b.c", "50%.csv"]
BAD = {
    "": "required",
    ".": "'.'",
    "..": "'..'",
    "a..b": "'..'",
    "../etc/passwd": "'/'",
    "a/b": "'/'",
    "a\\b": "'\\\\'",
    "nul\x00": "control",
    "line\nbreak": "control",
    "del\x7f": "control",
    "c1\x85": "control",
    "x" * 256: "255 bytes",
    "ñ" * 128: "255 bytes",  # 256 bytes in UTF-8
}


@pytest.mark.parametrize("name", GOOD)
def test_plain_names_are_kept(name: str) -> None:
    assert check_filename(name) == name


@pytest.mark.parametrize(("name", "reason"), BAD.items(), ids=[repr(n)[:20] for n in BAD])
def test_names_that_could_leave_the_jobs_prefix_are_refused(name: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_filename(name)


def test_a_missing_name_is_refused() -> None:
    with pytest.raises(ValueError, match="required"):
        check_filename(None)


BASE: dict[str, Any] = {"clients": (ClientToken("c", "t"),), "worker_token": "w"}


def test_s3_settings_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "orchestrator.yaml"
    path.write_text(
        textwrap.dedent(
            """
            clients: [{name: c, token: t}]
            workers: {token: w}
            s3_bucket: from-file
            s3_endpoint_url: http://minio:9000
            s3_presign_expires_s: 600
            """
        )
    )
    environ = {
        "ORCH_S3_BUCKET": "from-env",
        "ORCH_S3_ACCESS_KEY_ID": "key",
        "ORCH_S3_SECRET_ACCESS_KEY": "s3-s3cr3t",
        "ORCH_S3_MAX_UPLOAD_BYTES": "1024",
    }

    settings = load_settings(environ, path)

    assert settings.s3.bucket == "from-env"
    assert settings.s3.endpoint_url == "http://minio:9000"
    assert (settings.s3.presign_expires_s, settings.s3.max_upload_bytes) == (600, 1024)
    assert (settings.s3.access_key_id, settings.s3.secret_access_key) == ("key", "s3-s3cr3t")
    assert settings.s3.key_prefix == "jobs"
    assert "s3-s3cr3t" not in repr(settings)


def test_without_a_bucket_s3_is_off_and_unchecked() -> None:
    settings = Settings.from_flat(**BASE, s3_key_prefix="", s3_presign_expires_s=0).check()

    assert not settings.s3.bucket


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"s3_access_key_id": "k"}, "must be set together"),
        ({"s3_secret_access_key": "s"}, "must be set together"),
        ({"s3_endpoint_url": "minio:9000"}, "http(s) URL"),
        ({"s3_key_prefix": ""}, "s3_key_prefix"),
        ({"s3_key_prefix": "/jobs"}, "s3_key_prefix"),
        ({"s3_key_prefix": "a//b"}, "s3_key_prefix"),
        ({"s3_key_prefix": "a/../b"}, "'..'"),
        ({"s3_max_expires_s": 8 * 24 * 3600}, "s3_max_expires_s"),
        ({"s3_presign_expires_s": 7200, "s3_max_expires_s": 3600}, "s3_presign_expires_s"),
        ({"s3_max_upload_bytes": 0}, "s3_max_upload_bytes"),
    ],
)
def test_bad_s3_settings_are_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_flat(**BASE, s3_bucket="b", **changes).check()
