"""The OpenAPI contract every service publishes: error answers, headers and 405's `Allow`.

A route declares only what is its own (`responses=declare(409, 503)`, `etag_responses()`,
`replay_responses(201)`); `install_contract(app)` adds what the runtime itself can answer on
every operation, read from the route: 401/403 from its auth dependencies, 400/413/422 from its
body and parameters, 404 from its path parameters, 405 with `Allow`, and 500. Every error answer
has the envelope's schema, `{"error": {"code", "message"[, "details"]}}`.
"""

import copy
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import compile_path

ENVELOPE_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}


class ErrorBody(BaseModel):
    model_config = ConfigDict(title="Error")

    code: str = Field(description="Stable machine code, e.g. `sold_out`, `validation_error`.")
    message: str = Field(description="For people; may change.")
    details: dict[str, Any] | None = Field(default=None, description="Extra facts, per code.")


class ErrorEnvelope(BaseModel):
    """What every refusal and failure of every service answers with."""

    error: ErrorBody


def _header(description: str, *, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


RETRY_AFTER = _header(
    "Seconds to wait before trying again.", schema={"type": "string", "pattern": r"^\d+$"}
)
ETAG = _header("Version of the answer; send it back as `If-None-Match` for a 304.")
CACHE_CONTROL = _header("Caching rules for this answer.")
IDEMPOTENT_REPLAYED = _header(
    "`true` when this is the stored answer to an earlier request with the same key.",
    schema={"type": "string", "enum": ["true"]},
)
ALLOW = _header("The methods this path supports, comma separated.")
WWW_AUTHENTICATE = _header("`Bearer` when the token is missing.")

DESCRIPTIONS = {
    400: "The body could not be read (not JSON, not UTF-8) or a parameter is not one we gave out.",
    401: "No token, or the token is not valid (signature, expiry, issuer, audience).",
    403: "The token is valid but may not do this.",
    404: "No such resource (or not yours).",
    405: "The path does not support this method; `Allow` lists those it does.",
    409: "Refused by the resource's current state.",
    413: "The body is larger than the service accepts.",
    422: "The request does not match its schema, or the business rules refuse its values.",
    429: "Too many requests; `Retry-After` says when to try again.",
    500: "Something went wrong on the service's side; safe to retry later.",
    502: "An upstream (Midtrans, another service) refused or failed.",
    503: "A dependency is unavailable; retry later.",
}
HEADERS_OF = {401: {"WWW-Authenticate": WWW_AUTHENTICATE}, 405: {"Allow": ALLOW}}
OPTIONAL_HEADERS_OF = {429: {"Retry-After": RETRY_AFTER}, 503: {"Retry-After": RETRY_AFTER}}


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One error answer with the envelope's schema (and its status's usual headers)."""
    response: dict[str, Any] = {
        "description": description or DESCRIPTIONS.get(status, "Refused."),
        "content": {"application/json": {"schema": ENVELOPE_REF}},
    }
    headers = {**HEADERS_OF.get(status, {}), **OPTIONAL_HEADERS_OF.get(status, {})}
    if headers:
        response["headers"] = headers
    return response


def declare(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the error statuses its use case can refuse with.

    `declare(404, 409, s409="Sold out, or sales closed.")` gives its own description to 409.
    """
    return {s: error_response(s, descriptions.get(f"s{s}")) for s in statuses}


def etag_responses() -> dict[int | str, dict[str, Any]]:
    """A read route answered by `etag_json`: `ETag` on 200, and 304 for `If-None-Match`."""
    headers = {"ETag": ETAG, "Cache-Control": CACHE_CONTROL}
    return {
        200: {"description": "The resource.", "headers": headers},
        304: {
            "description": "Not modified since the `ETag` sent in `If-None-Match`.",
            "headers": headers,
        },
    }


def replay_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Idempotent routes: the same key gets the stored answer, marked `Idempotent-Replayed`."""
    return {
        s: {
            "description": "Done (or replayed).",
            "headers": {"Idempotent-Replayed": IDEMPOTENT_REPLAYED},
        }
        for s in statuses
    }


def merge(*parts: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """Several response declarations as one `responses=`, headers of one status combined."""
    merged: dict[int | str, dict[str, Any]] = {}
    for part in parts:
        for status, response in part.items():
            into = merged.setdefault(status, {})
            headers = {**into.get("headers", {}), **response.get("headers", {})}
            into.update(response)
            if headers:
                into["headers"] = headers
    return merged


def error_statuses(*statuses: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Marks a dependency with the error statuses it can answer with (auth: 401, roles: 403).

    `install_contract` finds them in every route that depends on it, however deeply.
    """

    def mark(dependency: Callable[..., Any]) -> Callable[..., Any]:
        dependency.__error_statuses__ = tuple(statuses)  # type: ignore[attr-defined]
        return dependency

    return mark


def allowed_methods(request: Request) -> list[str]:
    """Every method of every route whose path matches the request's, for 405's `Allow`."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in _routes(request.app):
        regex, _, _ = compile_path(route.path)
        if regex.match(path):
            methods.update(route.methods or ())
    return sorted(methods)


def _routes(app: FastAPI) -> Iterator[Any]:
    """The app's API routes with their full paths, through included routers.

    FastAPI 0.130+ keeps included routers whole (`iter_route_contexts` flattens them); before,
    `app.routes` held the routes themselves.
    """
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:
        yield from (r for r in app.routes if isinstance(r, APIRoute))
        return
    for context in iter_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def install_contract(app: FastAPI) -> None:
    """Make `app.openapi()` declare the runtime's own answers on every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        # A copy: routes' own declarations (module constants) are not edited in place.
        schema = copy.deepcopy(
            get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(_envelope_components())
        for route in _routes(app):
            if route.include_in_schema:
                path = schema["paths"].get(route.path_format, {})
                for method in route.methods or ():
                    operation = path.get(method.lower())
                    if operation is not None:
                        _complete(operation, route)
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        _translate_constraints(schema)
        _no_nul_in_free_text(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _envelope_components() -> dict[str, Any]:
    envelope = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = envelope.pop("$defs", {})
    return {**defs, "ErrorEnvelope": envelope}


def _complete(operation: dict[str, Any], route: Any) -> None:
    for parameter in operation.get("parameters", []):
        parameter["schema"] = _without_null(parameter.get("schema", {}))
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses = _runtime_statuses(route)
    if "requestBody" in operation:  # declared by the route itself too (a raw webhook body)
        statuses |= {400, 413}
    for status in sorted(statuses):
        key = str(status)
        if key not in responses or status == 422:
            responses[key] = error_response(status)
        else:  # a route's own declaration keeps its description; the schema is the envelope's
            responses[key].setdefault("content", {"application/json": {"schema": ENVELOPE_REF}})
    operation["responses"] = dict(sorted(responses.items()))


# Pydantic writes a constraint it cannot place inside a type (on a union, or after a
# BeforeValidator) under its Python name, which JSON Schema readers ignore.
_CONSTRAINTS = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
    "multiple_of": "multipleOf",
}
_NAME_MAPS = {"properties", "patternProperties", "$defs", "definitions", "schemas", "paths"}


def _translate_constraints(node: Any, *, names: bool = False) -> None:
    if isinstance(node, list):
        for item in node:
            _translate_constraints(item)
    elif isinstance(node, dict):
        if not names:
            for python_name, json_name in _CONSTRAINTS.items():
                if python_name in node and json_name not in node:
                    node[json_name] = node.pop(python_name)
        for key, value in node.items():
            _translate_constraints(value, names=not names and key in _NAME_MAPS)


NO_NUL = r"^[^\x00]*$"
_CONSTRAINED = ("pattern", "format", "enum", "const")


JSON_WITHOUT_NUL_REF = "#/components/schemas/JsonWithoutNul"
JSON_WITHOUT_NUL: dict[str, Any] = {
    "description": "Any JSON value whose strings and member names hold no NUL (U+0000).",
    "anyOf": [
        {"type": ["null", "boolean", "number"]},
        {"type": "string", "pattern": NO_NUL},
        {"type": "array", "items": {"$ref": JSON_WITHOUT_NUL_REF}},
        {
            "type": "object",
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": {"$ref": JSON_WITHOUT_NUL_REF},
        },
    ],
}


def _no_nul_in_free_text(schema: dict[str, Any]) -> None:
    """Every request string without a pattern of its own says it has no NUL (json_numbers
    refuses one everywhere: PostgreSQL cannot store it)."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, component in schemas.items():
        if name not in ("ErrorEnvelope", "ErrorBody"):
            _add_no_nul(component)
    schemas["JsonWithoutNul"] = copy.deepcopy(JSON_WITHOUT_NUL)
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                _add_no_nul(parameter.get("schema", {}))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _add_no_nul(media.get("schema", {}))


def _add_no_nul(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _add_no_nul(item)
    elif isinstance(node, dict):
        if node.get("type") == "string" and not any(key in node for key in _CONSTRAINED):
            node["pattern"] = NO_NUL
        for value in node.values():
            _add_no_nul(value)
        if node.get("type") == "object" and node.get("additionalProperties", True) is True:
            # Extra members are ignored, but a NUL in them is refused all the same.
            node["propertyNames"] = {"pattern": NO_NUL}
            node["additionalProperties"] = {"$ref": JSON_WITHOUT_NUL_REF}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter is absent or a string: FastAPI's `anyOf: [..., null]` would have clients
    send the text `null`, which is a value (and usually a refused one)."""
    options = schema.get("anyOf")
    if not options:
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if rest.get("default", ...) is None:
        del rest["default"]
    return {**rest, **kept[0]} if len(kept) == 1 else {**rest, "anyOf": kept}


def _runtime_statuses(route: Any) -> set[int]:
    dependant = route.dependant
    # 422 everywhere: json_numbers refuses a NUL in any path or query, and bad bodies.
    statuses = {405, 422, 500}
    if dependant.body_params:
        statuses |= {400, 413}
    if dependant.path_params:
        statuses.add(404)
    statuses.update(_marked(dependant))
    return statuses


def _marked(dependant: Dependant) -> Iterable[int]:
    for d in _walk(dependant):
        yield from getattr(d.call, "__error_statuses__", ())


def _walk(dependant: Dependant) -> Iterable[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)
