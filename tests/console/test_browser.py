"""The console in a real headless Chromium, against a real orchestrator on real Redis and a
real worker process: what a person sees, and what it does when they act."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.console.browser import Browser, Page, q, text_of
from tests.console.conftest import VIEWER_TOKEN, Stack, only_own_origin, signed_in
from tests.helpers import wait_for

# the browser fixture lives in the module's event loop: the tests run in it too
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def count(page: Page, selector: str) -> int:
    return int(await page.js(f"document.querySelectorAll({json.dumps(selector)}).length"))


async def test_sign_in_keeps_the_token_out_of_urls(browser: Browser, stack: Stack) -> None:
    page = await Page.open(browser)
    await page.goto(f"{stack.url}/console/")
    await page.wait("!document.querySelector('#sign-in').hidden", "the sign-in form")
    await page.fill("#token", "not-a-token")
    await page.click("#sign-in-form button[type=submit]")
    await page.wait(
        "document.querySelector('#sign-in-error').textContent.includes('refused')",
        "the refusal of a wrong token",
    )
    assert await page.js("document.querySelector('#nav').hidden") is True
    await page.fill("#token", VIEWER_TOKEN)
    await page.click("#sign-in-form button[type=submit]")
    await page.wait(q("#workers-active"), "the overview")
    assert await page.js("sessionStorage.getItem('orchestrator.console.token')") == VIEWER_TOKEN
    assert all(VIEWER_TOKEN not in url for url in page.requests), page.requests
    assert VIEWER_TOKEN not in await page.js("location.href")
    # an API error reads as the API says it: code, status, message
    await page.goto(f"{stack.url}/console/#/jobs/no-such-job")
    await page.wait(
        f"{text_of('#problem')}.includes('JOB_NOT_FOUND (HTTP 404)')", "the 404 in words"
    )
    # a token that stops working (rotated) sends the person back to sign in, saying why
    await page.js("sessionStorage.setItem('orchestrator.console.token', 'rotated-away')")
    await page.goto(f"{stack.url}/console/#/workers")
    await page.wait("!document.querySelector('#sign-in').hidden", "the sign-in form")
    assert "refused" in await page.js(text_of("#sign-in-error"))
    assert await page.js("sessionStorage.getItem('orchestrator.console.token')") is None
    await page.fill("#token", VIEWER_TOKEN)
    await page.click("#sign-in-form button[type=submit]")
    await page.wait(q("#workers"), "the workers page, signed in again")
    only_own_origin(page, stack)
    # signing out forgets it
    await page.click("#sign-out")
    await page.wait("!document.querySelector('#sign-in').hidden", "the sign-in form again")
    assert await page.js("sessionStorage.getItem('orchestrator.console.token')") is None


async def test_overview_shows_the_deployment_counts(browser: Browser, stack: Stack) -> None:
    waiting = await stack.start("ov-1")
    held = await stack.start("ov-2")  # stays with the worker: its gate is never opened
    await stack.call("POST", "/api/v1/orphan", {"initial_data": {}})  # no worker takes it
    stack.mark("open-ov-1")
    await stack.reaches(waiting, "waiting_for_human")
    page = await signed_in(browser, stack)
    await page.wait(text_of("#human-waiting") + " === '1'", "one human step waiting")
    await page.wait(
        q("#human-by-role tr[data-role=desk]"), "the desk role in the human steps by role"
    )
    await page.wait(text_of("#workers-active") + " === '1'", "the worker counted live")
    row = "#jobs-by-status tr[data-blueprint=review]"
    await page.wait(
        text_of(f"{row} td[data-status=waiting_for_human]") + " === '1'",
        "the review job waiting for a person in the table",
    )
    await page.wait(text_of("#queues tr[data-task-type=nobody] td.num") + " === '1'", "queue")
    await page.wait(
        "/^\\d+s$/.test(" + text_of("#queues td[data-oldest=nobody]") + ")",
        "the age of the queue's oldest task",
    )
    await page.wait(
        "document.querySelectorAll('#finished-chart rect').length === 60", "the hour's chart"
    )

    async def same_as_the_api() -> bool:
        # the page refreshes every 2 s: compare until one of its refreshes matches the API
        api = (await stack.call("GET", "/api/v1/dashboard"))["jobs"]["review"]
        shown = await page.js(
            f"""Object.fromEntries([...document.querySelectorAll('{row} td')]
                 .filter(td => td.textContent !== '0')
                 .map(td => [td.dataset.status, Number(td.textContent)]))"""
        )
        return bool(shown == api)

    await wait_for(same_as_the_api, 15, "the page's counts to be the dashboard's")
    await stack.call("POST", f"/api/v1/jobs/{held}/cancel")  # an ended job for the chart
    await page.wait(
        "[...document.querySelectorAll('#finished-chart rect')].slice(-2)"
        ".some(r => r.dataset.count === '1')",
        "the cancelled job in this minute's bar",
    )
    await page.screenshot(stack.shots / "overview.png")
    # usable at a phone's width: nothing runs off the side of the page
    await page.pw.set_viewport_size({"width": 390, "height": 844})
    for view in ("#/", "#/inbox", "#/jobs", f"#/jobs/{waiting}"):
        await page.goto(f"{stack.url}/console/{view}")
        await page.wait("document.querySelectorAll('.view > *').length > 1", f"{view} drawn")
        width = await page.js("document.documentElement.scrollWidth")
        assert width <= 390, f"{view} is {width}px wide at a 390px viewport"
    only_own_origin(page, stack)


async def test_job_page_follows_the_job_live(browser: Browser, s3: Any, stack: Stack) -> None:
    other = await stack.start("live-0")
    job_id = await stack.start("live-1")
    await stack.upload(job_id, "report (1).txt", b"the gate's report\n")
    page = await signed_in(browser, stack)
    await page.js("window.__samePage = true")  # gone if anything reloaded the page
    # the list, filtered, has it; and it can be found by a part of its id
    await page.goto(f"{stack.url}/console/#/jobs?blueprint=review&status=cancelled")
    await page.wait(text_of("#job-list") + ".includes('No job matches')", "an empty list")
    await page.goto(f"{stack.url}/console/#/jobs?blueprint=review")
    await page.wait(q(f'#jobs tr[data-job-id="{other}"]'), "the other job in the list")
    assert await page.js("document.querySelector('#filter-blueprint').value") == "review"
    part = next(job_id[i : i + 7] for i in range(30) if job_id[i : i + 7] not in other)
    await page.fill("#filter-id", part.upper())
    await page.click("#job-filters button[type=submit]")
    # the view is drawn anew for the search: wait for the list that has the job, alone
    await page.wait(
        f"document.querySelectorAll('#jobs tbody tr').length === 1 && "
        f"{q(f'#jobs tr[data-job-id={json.dumps(job_id)}]')}",
        "the list of the search, with only the job",
    )
    assert f"id={part.upper()}" in await page.js("location.hash"), "the search is in the address"
    # a created range the job is not in empties the list; one it is in keeps it
    created = (await stack.job(job_id))["created_at"]
    await page.goto(f"{stack.url}/console/#/jobs?id={part}&created_before={created}")
    await page.wait(text_of("#job-list") + ".includes('No job matches')", "none before it")
    await page.goto(f"{stack.url}/console/#/jobs?id={part}&created_after={created}")
    await page.wait(q(f'#jobs tr[data-job-id="{job_id}"]'), "the job in its range")
    # the datetime fields show the range in the person's time, to the minute
    assert await page.js("document.querySelector('#filter-from').value") == await page.js(
        f"(d => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString()"
        f".slice(0, 16))(new Date({json.dumps(created)}))"
    )
    await page.screenshot(stack.shots / "jobs.png")
    await page.fill("#find-job", job_id)
    await page.click("form[role=search] button[type=submit]")
    graph = "#job-graph svg"
    await page.wait(q(f'{graph} g.node.current[data-state="prepare"]'), "prepare as current")
    await page.wait(q('#timeline li[data-type="state_entered"]'), "the first events")
    before = await count(page, "#timeline li")
    assert await page.js(q(f'{graph} g.node[data-state="decide"].visited')) is False
    await page.screenshot(stack.shots / "job-before.png")

    stack.mark("open-live-1")  # the worker finishes its task: the job moves to `decide`
    await page.wait(q(f'{graph} g.node.current[data-state="decide"]'), "decide as current")
    await page.wait(
        f"document.querySelectorAll('#timeline li').length > {before}", "the timeline to grow"
    )
    await page.wait(q('#timeline li[data-type="human_waiting"]'), "the human_waiting event")
    # the graph is drawn again after each event: wait for the drawing that has them all
    await page.wait(q(f'{graph} g.node.visited[data-state="prepare"]'), "prepare visited")
    await page.wait(
        q(f'{graph} path.edge.taken[data-from="prepare"][data-to="decide"]'), "the edge taken"
    )
    assert not await page.js(q(f'{graph} g.node.current[data-state="prepare"]'))
    assert await page.js(text_of('#job-facts dd[data-fact="status"]')) == "waiting_for_human"
    assert await page.js("window.__samePage") is True
    # the task's attempt, who ran it and how it ended
    await page.wait(
        text_of('#job-tasks tr[data-attempt="1"] td[data-outcome]') + " === 'success'",
        "the gate task's attempt as a success",
    )
    assert "console-w1" in await page.js(text_of('#job-tasks tr[data-attempt="1"]'))
    ids = await page.js(
        "[...document.querySelectorAll('#timeline li')].map(li => li.dataset.eventId)"
    )
    history = await stack.call("GET", f"/api/v1/jobs/{job_id}/history")
    assert ids == [str(ev["id"]) for ev in history]
    # its input, what its task returned, and its files, each saved through the orchestrator
    assert json.loads(await page.js(text_of("#job-initial-data pre"))) == {"key": "live-1"}
    await page.wait(q("#job-data pre"), "the data of its task")
    assert json.loads(await page.js(text_of("#job-data pre"))) == {"gate": "live-1"}
    row = '#job-file-list tr[data-file="report (1).txt"]'
    await page.wait(q(row), "the file in the list")
    async with page.pw.expect_download() as saving:
        await page.click(f"{row} button.download")
    saved = await saving.value
    assert saved.suggested_filename == "report (1).txt"
    content = await asyncio.to_thread(Path(await saved.path()).read_bytes)
    assert content == b"the gate's report\n"
    assert any(u.endswith("/files/download/report%20%281%29.txt?via=orchestrator")
               for u in page.requests), page.requests  # fmt: skip
    assert "null" not in await page.js(text_of("#job-files")), "a stray null in the page"
    await page.screenshot(stack.shots / "job-files.png", of="#job-files")
    await page.js("window.scrollTo(0, 0)")
    await page.screenshot(stack.shots / "job.png")
    await page.screenshot(stack.shots / "job-full.png", full=True)
    only_own_origin(page, stack)


async def test_inbox_decision_moves_the_job_and_leaves_every_list(
    browser: Browser, stack: Stack
) -> None:
    first, second = await stack.start("inbox-1"), await stack.start("inbox-2")
    stack.mark("open-inbox-1")
    stack.mark("open-inbox-2")
    await stack.reaches(first, "waiting_for_human")
    await stack.reaches(second, "waiting_for_human")
    deciding = await signed_in(browser, stack)
    watching = await signed_in(browser, stack)  # someone else, in another browser context
    for page in (deciding, watching):
        await page.goto(f"{stack.url}/console/#/inbox?role=desk")
        await page.wait("document.querySelectorAll('#inbox article').length === 2", "2 items")
        await page.wait(text_of("#live") + " === '(live)'", "the inbox stream")
    card = f'#inbox article[data-job-id="{first}"]'
    assert await deciding.js(text_of(f"{card} h2")) == "Review inbox-1"
    assert "Approve it" in await deciding.js(text_of(f"{card} .instructions"))
    assert "due in" in await deciding.js(text_of(f"{card} .due"))
    await deciding.screenshot(stack.shots / "inbox.png")

    # without saying who acts, nothing is sent
    await deciding.click(f"{card} form button[type=submit]")
    await deciding.wait(f"{text_of(card + ' .error')}.includes('who you are')", "a hint")
    assert (await stack.job(first))["status"] == "waiting_for_human"

    await deciding.fill("#actor", "ada")
    await deciding.choose(f"#decision-{first}", "reject")
    await deciding.wait(q(f"#f-{first}-notes"), "the notes field of `reject`")
    await deciding.fill(f"#f-{first}-notes", "not ours")
    await deciding.click(f"{card} form button[type=submit]")
    for page in (deciding, watching):
        await page.wait(f"!{q(card)}", "the decided item to leave the list")
    assert await watching.js(q(f'#inbox article[data-job-id="{second}"]'))
    # taking a step assigns it, and every open inbox shows it
    await deciding.click(f"#take-{second}")
    for page in (deciding, watching):
        await page.wait(
            f"{text_of(f'#inbox article[data-job-id={json.dumps(second)}] .meta')}"
            ".includes('assignee: ada')",
            "the step assigned to ada",
        )
    assert not await deciding.js(q(f"#take-{second}")), "no 'assign to me' on my own step"
    listed = await stack.call("GET", "/api/v1/human-tasks?assignee=ada")
    assert [i["job_id"] for i in listed["items"]] == [second]
    # a step that starts waiting now appears in the open inbox, without a reload
    third = await stack.start("inbox-3")
    stack.mark("open-inbox-3")
    await watching.wait(q(f'#inbox article[data-job-id="{third}"]'), "the new step to appear")
    # escalating (after a confirmation) hands the step to desk-lead: it leaves desk's inboxes
    await deciding.click(f"#escalate-{third}")
    await deciding.wait("document.querySelector('#confirm').open", "the confirmation")
    await deciding.click("#confirm-yes")
    for page in (deciding, watching):
        await page.wait(f"!{q(f'#inbox article[data-job-id={json.dumps(third)}]')}", "it leaves")
    lead = await stack.call("GET", "/api/v1/human-tasks?role=desk-lead")
    assert [(i["job_id"], i["escalation_level"]) for i in lead["items"]] == [(third, 1)]
    job = await stack.reaches(first, "finished")
    assert job["current_state"] == "rejected"
    assert job["result"] == {"rejected_by": "ada", "notes": "not ours"}
    history = await stack.call("GET", f"/api/v1/jobs/{first}/history")
    decided = next(ev for ev in history if ev["type"] == "human_decided")
    assert decided["actor"] == "ada"
    for page in (deciding, watching):
        only_own_origin(page, stack)


async def test_a_failed_job_is_retried_and_a_running_one_cancelled(
    browser: Browser, stack: Stack
) -> None:
    failing = await stack.start("retry-1")
    stack.mark("fail-retry-1")
    stack.mark("open-retry-1")
    failed = await stack.reaches(failing, "failed")
    assert failed["error"]["code"] == "GATE_BROKEN"
    page = await signed_in(browser, stack)
    await page.goto(f"{stack.url}/console/#/jobs/{failing}")
    await page.wait(q("#job-error"), "the job's error")
    assert "GATE_BROKEN" in await page.js(text_of("#job-error"))
    await page.wait(q('#job-graph g.node.current.failed[data-state="prepare"]'), "failed here")
    (stack.marks / "fail-retry-1").unlink()  # the cause is fixed
    await page.click("#retry-job")
    await page.wait("document.querySelector('#confirm').open", "the confirmation")
    await page.click("#confirm-yes")
    await page.wait(q('#job-graph g.node.current[data-state="decide"]'), "the retried job moved")
    assert (await stack.job(failing))["status"] == "waiting_for_human"
    await page.wait(q('#timeline li[data-type="job_retried"]'), "the retry in the timeline")

    running = await stack.start("cancel-1")  # its gate stays shut
    await page.goto(f"{stack.url}/console/#/jobs/{running}")
    await page.wait(q("#cancel-job"), "the cancel button")
    await page.click("#cancel-job")
    await page.wait("document.querySelector('#confirm').open", "the confirmation")
    await page.click("#confirm-no")  # changed their mind: nothing happens
    await page.wait("!document.querySelector('#confirm').open", "the dialog to close")
    await page.click("#cancel-job")
    await page.wait("document.querySelector('#confirm').open", "the confirmation")
    await page.press_escape()  # Escape is "no" too
    await page.wait("!document.querySelector('#confirm').open", "the dialog to close")
    assert (await stack.job(running))["status"] not in ("cancelled",)
    await page.click("#cancel-job")
    await page.wait("document.querySelector('#confirm').open", "the confirmation")
    await page.click("#confirm-yes")
    await page.wait(text_of('#job-facts dd[data-fact="status"]') + " === 'cancelled'", "cancel")
    await stack.reaches(running, "cancelled")
    only_own_origin(page, stack)


BROKEN = {
    "workflow": {"name": "Broken desk", "high_sla": "12h"},
    "graph": {
        "nodes": [{"temp_id": "a", "name": "A", "role_id": 1, "is_start": True, "weight": 1}],
        "edges": [{"from_temp_id": "a", "to_temp_id": "b", "name": "Go"}],
    },
}
GOOD = {
    "workflow": {"name": "Console desk", "high_sla": "04:00:00"},
    "graph": {
        "nodes": [
            {"temp_id": "n1", "name": "Triage", "role_id": 2, "is_start": True, "weight": 0.5},
            {"temp_id": "n2", "name": "Fix", "role_id": 3, "is_end": True, "weight": 0.5},
        ],
        "edges": [{"from_temp_id": "n1", "to_temp_id": "n2", "name": "Assign"}],
    },
}


async def test_registering_a_workflow_shows_problems_next_to_the_input(
    browser: Browser, stack: Stack
) -> None:
    page = await signed_in(browser, stack)
    await page.goto(f"{stack.url}/console/#/blueprints")
    await page.wait(q('#blueprints tr[data-blueprint="review"]'), "the blueprint list")
    await page.fill("#bp-source", json.dumps(BROKEN, indent=2))
    await page.click("form.upload button[type=submit]")
    await page.wait(q("#bp-problems ul.problems li"), "the problems")
    problems = await page.js(text_of("#bp-problems"))
    assert "BLUEPRINT_INVALID" in problems
    assert "graph.edges[0].to_temp_id" in problems and "workflow.high_sla" in problems
    await page.screenshot(stack.shots / "blueprints-problems.png")
    await page.fill("#bp-source", json.dumps(GOOD))
    await page.click("form.upload button[type=submit]")
    await page.wait(q("#bp-registered"), "the registration")
    ticket = {"subject": "Printer", "priority": "High"}
    await stack.call("POST", "/api/v1/console-desk", {"initial_data": ticket})

    async def counted() -> bool:
        jobs = (await stack.call("GET", "/api/v1/dashboard"))["jobs"]
        return jobs.get("console-desk") == {"waiting_for_human": 1}

    await wait_for(counted, 10, "the ticket in the dashboard's counts")
    await page.click("#bp-registered a")
    await page.wait(q('#blueprint-graph g.node.start[data-state="received"]'), "its graph")
    assert await page.js(q('#blueprint-graph g.node[data-state="Triage"]'))
    counts = await page.js(text_of("#blueprint-counts"))
    assert counts == "1 waiting_for_human · this blueprint's jobs", counts
    assert (await stack.call("GET", "/api/v1/blueprints/console-desk"))["source"] == "registered"
    await page.screenshot(stack.shots / "blueprint.png")
    # a blueprint from a file: its graph and version, and no stray text for what it lacks
    await page.goto(f"{stack.url}/console/#/blueprints/review")
    await page.wait(q('#blueprint-graph g.node.start[data-state="prepare"]'), "review's graph")
    view = await page.js(text_of(".view"))
    assert "null" not in view and "undefined" not in view, view

    # a client that may not manage blueprints reads why, from the API's own error
    viewer = await signed_in(browser, stack, VIEWER_TOKEN)
    await viewer.goto(f"{stack.url}/console/#/blueprints")
    await viewer.wait(q("#bp-source"), "the upload form")
    await viewer.fill("#bp-source", json.dumps(GOOD))
    await viewer.click("form.upload button[type=submit]")
    await viewer.wait(
        f"{text_of('#bp-problems')}.includes('BLUEPRINT_MANAGEMENT_FORBIDDEN')", "the refusal"
    )
    for p in (page, viewer):
        only_own_origin(p, stack)


async def test_workers_page_lists_the_live_worker(browser: Browser, stack: Stack) -> None:
    page = await signed_in(browser, stack)
    await page.goto(f"{stack.url}/console/#/workers")
    await page.wait(q('#workers tr[data-worker="console-w1"]'), "the worker")
    row = await page.js(text_of('#workers tr[data-worker="console-w1"]'))
    assert "gate" in row and "/ 4" in row and "active" in row

    async def listed() -> bool:
        return any(
            w["worker_id"] == "console-w1" for w in await stack.call("GET", "/api/v1/workers")
        )

    assert await wait_for(listed, 5, "the API to list the worker too")
    await page.screenshot(stack.shots / "workers.png")
    only_own_origin(page, stack)
