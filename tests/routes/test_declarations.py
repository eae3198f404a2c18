"""Declarations are checked when a blueprint loads: paths, types, placeholders, and clashes
between routes, blueprints and built-in routes, each refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator import Actions, Blueprint, BlueprintRegistry, create_app
from orchestrator.blueprint.route_clashes import overlap
from orchestrator.blueprint.routes import ActionRoute, ReadRoute, Reply, StartRoute
from orchestrator.blueprint.yaml_loader import load_yaml
from orchestrator.config import ClientToken
from orchestrator.errors import BlueprintError
from orchestrator.storage.embedded import embedded_store
from tests.api.conftest import CLIENT_TOKEN, Api, MakeApi, assert_error, make_settings
from tests.routes.conftest import BLUEPRINTS

MANAGER = ClientToken("alice", CLIENT_TOKEN, can_manage_blueprints=True)
YAML_HEADERS = {"X-Client-Token": CLIENT_TOKEN, "Content-Type": "application/yaml"}

ALERT_YAML = (Path(__file__).with_name("alert.yaml")).read_text()
READ_NOT_FOUND = (
    '      not_found: {status: 404, body: {error: Alert not found, alertId: "{{ id }}"}}'
)


def blueprint(name: str, *routes: StartRoute | ActionRoute | ReadRoute) -> Blueprint:
    bp = Blueprint(name, routes=routes)

    @bp.handler(start=True)
    async def begin(actions: Actions) -> None:
        actions.go_to("end")

    @bp.handler(end=True)
    async def end() -> None:
        return None

    return bp


@pytest.mark.parametrize(
    ("route", "problem"),
    [
        (StartRoute("/v1/things"), "a route is /api/<version>/<path>"),
        (StartRoute("/api/v1/things/{id}"), "a start route takes no path parameter"),
        (ActionRoute("/api/v1/things/go"), "exactly one {param}"),
        (ReadRoute("/api/v1/things/{a}/{b}"), "exactly one {param}"),
        (StartRoute("/api/v1/th ings"), "segment 'th ings'"),
        (ReadRoute("/api/v1/things/{id}", method="POST"), "method POST (use GET)"),
        (StartRoute("/api/v1/things", form={"x": "date"}), "type 'date'"),
        (StartRoute("/api/v1/things", files="attachments"), "files need a form"),
        (StartRoute("/api/v1/things", wait_s=120), "wait_s must be 0 to 60"),
        (StartRoute("/api/v1/things", errors={"X": 99}), "errors.X: 99"),
        (StartRoute("/api/v1/things", job_id_from=("query.id",)), "job_id_from 'query.id'"),
        (StartRoute("/api/v1/things", result="{{ secret.x }}"), "must start with one of"),
        (ReadRoute("/api/v1/things/{id}", ok=Reply(200, "{{ job")), "unclosed placeholder"),
        (ReadRoute("/api/v1/things/{id}", ok=Reply(700, {})), "700 is not an HTTP status"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_problem(
    route: StartRoute | ActionRoute | ReadRoute, problem: str
) -> None:
    with pytest.raises(BlueprintError) as err:
        blueprint("bad", route).validate()
    assert problem in str(err.value)
    assert route.path in str(err.value)


def test_two_routes_of_one_blueprint_clash() -> None:
    bp = blueprint("twice", ReadRoute("/api/v1/x/{id}"), ReadRoute("/api/v1/x/{key}"))
    with pytest.raises(BlueprintError, match="routes GET /api/v1/x/{id} and /api/v1/x/{key} clash"):
        bp.validate()


def test_a_route_on_its_own_create_route_clashes() -> None:
    with pytest.raises(BlueprintError, match="clashes with its create route /api/v1/same"):
        blueprint("same", StartRoute("/api/v1/same")).validate()


def test_two_blueprints_declaring_one_path_are_refused() -> None:
    first = blueprint("first", StartRoute("/api/v1/alerts"))
    second = blueprint("second", StartRoute("/api/v1/alerts"))
    with pytest.raises(
        ValueError, match="'second': route POST /api/v1/alerts clashes with blueprint 'first'"
    ):
        BlueprintRegistry([first, second])


def test_a_route_on_another_blueprints_create_route_is_refused() -> None:
    first = blueprint("alerts", ReadRoute("/api/v1/alerts/{id}"))
    second = blueprint("taker", StartRoute("/api/v1/alerts"))
    with pytest.raises(ValueError, match="create route /api/v1/alerts"):
        BlueprintRegistry([first, second])


@pytest.mark.parametrize(
    ("route", "builtin"),
    [
        (ReadRoute("/api/v1/jobs/{id}"), "GET /api/v1/jobs/{job_id}"),
        (ActionRoute("/api/v1/jobs/{id}/decision"), "POST /api/v1/jobs/{job_id}/decision"),
        (ReadRoute("/api/v1/blueprints/{id}"), "GET /api/v1/blueprints/{name}"),
    ],
)
async def test_a_route_on_a_built_in_route_is_refused_at_start_up(
    prefix: str, route: ReadRoute | ActionRoute, builtin: str
) -> None:
    store = embedded_store(prefix)
    try:
        registry = BlueprintRegistry([blueprint("clash", route)])
        with pytest.raises(ValueError, match=f"clashes with the built-in route {builtin}"):
            create_app(make_settings(), store, registry)
    finally:
        await store.close()


def test_a_registered_blueprint_may_not_declare_routes() -> None:
    registry = BlueprintRegistry()
    with pytest.raises(ValueError, match="only for blueprints loaded at start-up"):
        registry.put(blueprint("late", StartRoute("/api/v1/late-things")))


def test_a_registered_blueprint_may_not_take_a_declared_path() -> None:
    registry = BlueprintRegistry([blueprint("alerts", ActionRoute("/api/v1/x/{id}/go"))])
    taker = blueprint("taker")
    taker.api_endpoint = "x/a1/go"  # its create route would be shadowed by the action route
    with pytest.raises(ValueError, match="its create route /api/v1/x/a1/go clashes"):
        registry.put(taker)


@pytest.mark.parametrize(
    ("a", "b", "clash"),
    [
        ("/api/v1/x/{id}", "/api/v1/x/y", True),
        ("/api/v1/x/{id}", "/api/v1/x/{id}/go", False),
        ("/api/v1/x", "/api/{version}/{endpoint:.+}", True),
        ("/api/v1/jobs/{id}/files/content/{f:[^/]+}", "/api/v1/jobs/{x}/files/content/a", True),
        ("/api/v1/a/b", "/api/v1/a/c", False),
    ],
)
def test_overlap(a: str, b: str, clash: bool) -> None:
    assert overlap(a, b) is clash
    assert overlap(b, a) is clash


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "      decision: acknowledge\n      actor_header",
            "      decision: [a]\n      actor_header",
            "alert.yaml:14: routes.actions[0].decision must be a non-empty string",
        ),
        (
            "    - {state: review, value: OPEN}",
            "    - {state: nowhere, value: OPEN}",
            "alert.yaml:5: routes.statuses[0].state goes to unknown state 'nowhere'",
        ),
        (
            "  reads:\n    - path: /api/v1/yaml-alerts/{id}\n",
            "  reads:\n    - path: /api/v1/yaml-alerts/{id}\n      colour: red\n",
            "alert.yaml:31: unknown key 'colour' in routes.reads[0]",
        ),
        (
            READ_NOT_FOUND + "\nstates",
            '      not_found: {status: 404, body: {error: "{{ nope }}"}}\nstates',
            "alert.yaml:38: routes.reads[0].not_found.body: placeholder path 'nope' must start",
        ),
        (
            "    - path: /api/v1/yaml-alerts\n",
            "    - path: /api/v1/yaml-alerts/{id}\n",
            "alert.yaml:9: route '/api/v1/yaml-alerts/{id}': a start route takes no path parameter",
        ),
    ],
)
def test_a_yaml_mistake_names_its_line(old: str, new: str, problem: str, tmp_path: Path) -> None:
    assert old in ALERT_YAML
    path = tmp_path / "alert.yaml"
    path.write_text(ALERT_YAML.replace(old, new, 1))
    with pytest.raises(BlueprintError) as err:
        load_yaml(path)
    assert problem in str(err.value)


YAML_PLAIN = """
blueprint: {name}
api_endpoint: {endpoint}
states:
  only: {{start: true, action: {{go_to: done}}}}
  done: {{end: true}}
"""


async def test_a_blueprint_registered_over_http_may_not_declare_routes(make_api: MakeApi) -> None:
    api = await make_api(blueprints=BLUEPRINTS, clients=(MANAGER,))
    text = (
        YAML_PLAIN.format(name="late", endpoint="late")
        + 'routes: {reads: [{path: "/api/v1/l/{id}"}]}\n'
    )
    resp = await api.client.post("/api/v1/blueprints", data=text, headers=YAML_HEADERS)
    error = await assert_error(resp, 400, "BLUEPRINT_INVALID")
    assert error["details"]["problems"][0]["path"] == "routes"
    assert "late" not in await listed(api)


async def test_a_registered_create_route_under_a_declared_route_is_409(make_api: MakeApi) -> None:
    api = await make_api(blueprints=BLUEPRINTS, clients=(MANAGER,))
    text = YAML_PLAIN.format(name="taker", endpoint="route-alerts/a1/acknowledge")
    resp = await api.client.post("/api/v1/blueprints", data=text, headers=YAML_HEADERS)
    error = await assert_error(resp, 409, "BLUEPRINT_ROUTE_TAKEN")
    assert "POST /api/v1/route-alerts/{id}/acknowledge" in error["message"]
    assert "taker" not in await listed(api)  # refused before it was stored


async def listed(api: Api) -> set[str]:
    resp = await api.client.get("/api/v1/blueprints", headers=YAML_HEADERS)
    return {bp["name"] for bp in await resp.json()}
