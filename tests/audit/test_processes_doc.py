"""``docs/processes.md``, the audit and notification sections: their curl examples run, in
order, against the real processes of ``audit_env`` (the docs' tokens, the shipped example
store, an aiosmtpd server)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess

from tests.audit.conftest import AuditEnv
from tests.helpers import ROOT, child_env

DOC = (ROOT / "docs" / "processes.md").read_text()


def blocks(section: str) -> list[str]:
    return re.findall(rf"<!-- run: {section} -->\n```sh\n(.*?)```", DOC, re.DOTALL)


def answers(out: str) -> list[str]:
    """Each JSON answer in ``out``, as written (curl adds no newline after a body)."""
    decoder = json.JSONDecoder()
    found, at = [], 0
    while (at := _skip_blanks(out, at)) < len(out):
        _, end = decoder.raw_decode(out, at)
        found.append(out[at:end])
        at = end
    return found


def _skip_blanks(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


async def run(script: str, env: AuditEnv) -> str:
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", "set -euo pipefail\n" + script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env(B=env.url, N=env.notifier_url),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    print(done.stdout)  # shown when an assertion below fails
    return done.stdout


async def test_the_audit_examples_run(audit_env: AuditEnv) -> None:
    found = blocks("audit")
    assert len(found) == 3, "a runnable audit block was added or lost: update this test"

    out = answers(await run("\n".join(found), audit_env))

    assert len(out) == 5, out
    form, chat, absent, missing, computed = out
    assert form.startswith('{"success":true,"code":"OK","details":{"type":"llamada",')
    assert '"sent_to":["operador@ejemplo.com","sup1@empresa.com","sup2@empresa.com"]' in form
    assert '"bcc":["Desarrollo_LS@linksolution.com.ar"]' in form
    assert chat.startswith('{"success":true,"code":"OK","details":{"type":"chat",')
    assert absent.startswith('{"success":false,"code":"NOT_FOUND","message":"no llamada audit')
    assert missing == (
        '{"success":false,"code":"MISSING_FIELDS",'
        '"message":"missing required fields: notes, isCall"}'
    )
    assert '"score":{"overall":66.67,"categories":{"SKILLS":100.0,"PROCESS":0.0}' in computed
    assert computed.endswith('"updated_by":"admin"}}')


async def test_the_notification_examples_run(audit_env: AuditEnv) -> None:
    found = blocks("notifications")
    assert len(found) == 1, "a runnable notification block was added or lost: update this test"

    out = answers(await run(found[0], audit_env))

    assert len(out) == 4, out
    created, read, refused, deleted = out
    assert '"text":"Task Completed","variant":"success","user_id":"user123"' in created
    assert '"read":true' in read
    assert refused == (
        '{"success":false,"code":"VALIDATION_ERROR",'
        '"message":"user_id is required unless is_global is true"}'
    )
    # Other tests of the session notify user123 too: the count is theirs and the doc's.
    assert re.fullmatch(r'\{"success":true,"user_id":"user123","deleted":\d+\}', deleted)
