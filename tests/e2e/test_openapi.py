"""``GET /openapi.json`` over real HTTP: a valid OpenAPI 3.1 document naming every route the
app serves, behind the token as ``/v1/agents`` is; and the live answers (bodies, errors,
every event of a streamed turn, approvals included) conform to the schemas it publishes."""

from typing import Any

import aiohttp
from pydantic import TypeAdapter

from tests import approval_agents as fx
from tests.api_fixtures import ApiServer
from tui.api import schema
from tui.bench.sse import read_events, sse_events


async def fetch_document(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> dict:
    async with http.get(f"{url}/openapi.json", **kwargs) as response:
        assert response.status == 200
        assert response.headers["content-type"].startswith("application/json")
        return await response.json()


def conforms(document: dict, name: str, instance: Any) -> None:
    """``instance`` is valid against the document's schema ``name`` (with jsonschema, when
    installed: what a client generated from the document expects) and its pydantic model."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        pass
    else:
        ref = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        Draft202012Validator(ref).validate(instance)
    model = schema.StreamEvent if name == "StreamEvent" else getattr(schema, name)
    TypeAdapter(model).validate_python(instance)


def served_routes(server: ApiServer) -> set[tuple[str, str]]:
    app = server._server.config.app
    return {
        (method.lower(), route.path)
        for route in app.routes
        for method in route.methods or ()
        if method != "HEAD"
    }


async def test_the_document_is_valid_names_every_route_and_is_guarded_by_the_token(api):
    server = api(token="s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    async with aiohttp.ClientSession() as http:
        for path in ("/openapi.json", "/v1/agents"):  # the same rule for both
            async with http.get(f"{server.url}{path}") as response:
                assert response.status == 401
                assert (await response.json())["error"]["code"] == "UNAUTHORIZED"
        document = await fetch_document(http, server.url, headers=auth)
        async with http.get(f"{server.url}/openapi.json", headers={"Origin": "http://evil"}) as r:
            assert r.status == 403  # the same-origin guard, as everywhere
    try:
        from openapi_spec_validator import validate
    except ImportError:
        validate = None
    if validate is not None:
        validate(document)
    assert document["openapi"].startswith("3.1")
    described = {(method, path) for path, item in document["paths"].items() for method in item}
    assert served_routes(server) == described
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    for path, item in document["paths"].items():
        for method, op in item.items():
            assert op["security"] == (
                [] if path in ("/", "/healthz", "/readyz") else [{"bearerAuth": []}]
            ), path
            if op["security"]:
                assert "401" in op["responses"], (method, path)
    # the streams are described with the event union, one schema per event type
    for path in ("/v1/sessions/{session_id}/messages", "/v1/sessions/{session_id}/events"):
        method = "post" if path.endswith("messages") else "get"
        ok = document["paths"][path][method]["responses"]["200"]["content"]
        event_schema = {"$ref": "#/components/schemas/ServerSentEvent"}
        assert ok["text/event-stream"]["schema"] == event_schema
    sse_data = document["components"]["schemas"]["ServerSentEvent"]["properties"]["data"]
    assert sse_data["contentSchema"] == {"$ref": "#/components/schemas/StreamEvent"}
    union = document["components"]["schemas"]["StreamEvent"]
    assert union["discriminator"]["propertyName"] == "type"
    assert {
        "session_update",
        "queued",
        "typing_start",
        "text_delta",
        "tool_start",
        "tool_complete",
        "approval_required",
        "approval_resolved",
        "error",
        "response_complete",
    } <= set(union["discriminator"]["mapping"])
    error = document["paths"]["/v1/sessions"]["post"]["responses"]["422"]
    assert error["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    retry = document["paths"]["/v1/sessions/{session_id}/messages"]["post"]["responses"]["429"]
    assert "Retry-After" in retry["headers"]


async def test_live_answers_conform_to_the_document(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        document = await fetch_document(http, server.url)
        async with http.post(
            f"{server.url}/v1/sessions", json={"title": "t", "user_context": {"u": [1, None]}}
        ) as response:
            assert response.status == 201
            created = await response.json()
        conforms(document, "SessionCreated", created)
        session_id = created["session_id"]
        async with http.post(
            f"{server.url}/v1/sessions/{session_id}/messages", json={"message": "hello there"}
        ) as response:
            assert response.status == 200
            events = await read_events(response)
        assert events[-1]["type"] == "response_complete"
        for event in events:
            conforms(document, "StreamEvent", event)
        for path, name in (
            (f"/v1/sessions/{session_id}/messages", "MessagesResponse"),
            (f"/v1/sessions/{session_id}/stats", "SessionStats"),
            ("/v1/stats", "GlobalStats"),
            ("/v1/agents", "AgentsResponse"),
            ("/v1/sessions", "SessionsPage"),
            (f"/v1/sessions/{session_id}", "SessionItem"),
            ("/healthz", "ProbeResponse"),
            ("/readyz", "ProbeResponse"),
        ):
            async with http.get(f"{server.url}{path}") as response:
                assert response.status == 200, path
                conforms(document, name, await response.json())
        async with http.post(f"{server.url}/v1/sessions/{session_id}/cancel") as response:
            conforms(document, "CancelResponse", await response.json())
        for method, path, body, status in (
            ("post", "/v1/sessions/nosuch/messages", {"message": "hi"}, 404),
            ("post", f"/v1/sessions/{session_id}/messages", {"message": 5}, 422),
            ("post", f"/v1/sessions/{session_id}/approvals/call_x", {"approve": True}, 409),
            ("get", "/v1/nothing", None, 404),
            ("get", "/v1/sessions/%00/messages", None, 422),
            ("get", "/v1/sessions?limit=0", None, 422),
            ("delete", "/v1/sessions/nosuch", None, 404),
        ):
            async with http.request(method, f"{server.url}{path}", json=body) as response:
                assert response.status == status, path
                conforms(document, "ErrorResponse", await response.json())


async def test_an_approval_turn_conforms_to_the_event_union(api):
    fx.DELETED.clear()
    server = api(fx.cleaner)
    async with aiohttp.ClientSession() as http:
        document = await fetch_document(http, server.url)
        async with http.post(f"{server.url}/v1/sessions") as response:
            session_id = (await response.json())["session_id"]
        events: list[dict] = []
        answers: list[dict] = []
        async with http.post(
            f"{server.url}/v1/sessions/{session_id}/messages", json={"message": "clean up"}
        ) as response:
            async for event in sse_events(response):
                events.append(event)
                if event["type"] != "approval_required":
                    continue
                call_id = event["data"]["call_id"]
                async with http.post(
                    f"{server.url}/v1/sessions/{session_id}/approvals/{call_id}",
                    json={"approve": call_id == "call_1"},
                ) as answer:
                    assert answer.status == 200
                    answers.append(await answer.json())
    kinds = {event["type"] for event in events}
    assert {"approval_required", "approval_resolved", "tool_start", "tool_complete"} <= kinds
    for event in events:
        conforms(document, "StreamEvent", event)
    for answer in answers:
        conforms(document, "ApproveResponse", answer)
    assert answers == [
        {"call_id": "call_1", "approved": True},
        {"call_id": "call_2", "approved": False},
    ]


async def test_each_invalid_field_is_named_in_a_422(api):
    """The request models validate; their errors are the API's messages, never pydantic's."""
    server = api()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions") as response:
            session_id = (await response.json())["session_id"]
        cases = (
            ("/v1/sessions", {"agent": 5}, "agent must be a string"),
            ("/v1/sessions", {"user_context": [1]}, "user_context must be an object"),
            ("/v1/sessions", {"title": None}, "title must be a string"),
            ("/v1/sessions", {"session_id": 7}, "session_id must be a string"),
            (
                "/v1/sessions",
                {"session_id": "../x"},
                "session_id must be 1-64 letters, digits, '.', '_' or '-'",
            ),
            ("/v1/sessions", {"agent": 1, "title": 2}, "agent must be a string"),
            (f"/v1/sessions/{session_id}/messages", {}, "message must be a non-empty string"),
            (
                f"/v1/sessions/{session_id}/messages",
                {"message": "  \n"},
                "message must be a non-empty string",
            ),
            (
                f"/v1/sessions/{session_id}/messages",
                {"message": "hi", "detach": 1},
                "detach must be true or false",
            ),
            (
                f"/v1/sessions/{session_id}/approvals/c1",
                {"approve": "yes"},
                "approve must be true or false",
            ),
            (
                f"/v1/sessions/{session_id}/messages",
                [1],
                "the body must be a JSON object",
            ),
        )
        for path, body, message in cases:
            async with http.post(f"{server.url}{path}", json=body) as response:
                assert response.status == 422, (path, body)
                assert await response.json() == {
                    "error": {"code": "INVALID_REQUEST", "message": message}
                }
        # fields the API does not know are ignored, as before
        async with http.post(f"{server.url}/v1/sessions", json={"colour": "red"}) as response:
            assert response.status == 201
