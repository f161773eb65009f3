"""The GET fast path (issue 16, item 3): the hot GET routes -- one resource of any kind by its ARM id, and the
async-operation status polls -- answered without FastAPI's per-request machinery (routing through every
route, the exception middleware, the exit stacks, dependency solving; ~100 us of a ~180 us GET).

``FastPath`` is pure ASGI middleware installed innermost of the app's middleware: *inside* ``ARMMiddleware``
(request id, client-request-id echo, lower-cased routing path, log line, ``aro_http_requests_total``) and
``ClientCertAuth`` (production client certificates), so neither is ever skipped, and in front of FastAPI's
exception middleware and router. It runs no route logic of its own: for a request it recognises it matches
the route with the route's own matcher (``APIRoute.matches``, what the router calls), builds the
``ArmRequest`` with the route's own dependency (``_arm_request``) and calls the route's own endpoint; a
``CloudError`` is rendered by ``error_response``, what the app's exception handler calls. So the status,
headers and body are the route's, and ``scope["route"]`` is the route (the metrics' and the log line's
``route`` label).

It answers only a 200, or a 404 ``CloudError`` (a missing resource, operation, resource group, ...);
anything else falls through to FastAPI unchanged, which then does the same work again and answers as it
always does (other errors, e.g. an unknown api-version; an unexpected exception; a response that is not a
200). A GET changes nothing, so running it twice is harmless. It also falls through for any request it is
not sure FastAPI would route to the same endpoint with the same arguments:

- not a GET, no ``api-version`` in the query or more than one, FastAPI's own telemetry in the scope, a
  dependency override on the app;
- routes are taken only if FastAPI would call the endpoint with nothing but the ``ArmRequest`` and the
  path's string parameters (checked on the route's dependant), and if no other route or mount of the app
  could match a path the route matches (checked once, on the route table, when the middleware is built:
  then the router picks this route for such a path whatever the order of routes).

``planned`` lists the routes taken (tests assert every hot route is); ``answered`` counts the requests
answered here.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.convertors import StringConvertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route

from aro.api.errors import CloudError
from aro.frontend.arm import _arm_request, error_response
from aro.frontend.middleware import ASGIApp, Receive, Scope, Send

log = logging.getLogger("aro.frontend.fastpath")

_API_VERSION = b"api-version"

# A path pattern as segments: a literal, _ONE (one segment, any text), _REST (any number of segments from
# here on: a Mount's tail, a ``{x:path}`` parameter).
_ONE, _REST = object(), object()


class FastPath:
    def __init__(self, app: ASGIApp, fastapi: FastAPI, paths: Collection[str]) -> None:
        self.app = app
        self.fastapi = fastapi
        self.planned: tuple[APIRoute, ...] = plan(fastapi, paths)
        by_depth: dict[int, list[APIRoute]] = {}
        for route in self.planned:
            by_depth.setdefault(route.path.count("/"), []).append(route)
        self._by_depth = {depth: tuple(routes) for depth, routes in by_depth.items()}
        self.answered = 0  # requests the fast path answered (the rest fell through to FastAPI)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and _API_VERSION in scope.get("query_string", b"")
            and "fastapi.telemetry" not in scope
            and not self.fastapi.dependency_overrides
        ):
            candidates = self._by_depth.get(scope["path"].count("/"))
            if candidates:
                response = await self._answer(candidates, scope, receive, send)
                if response is not None:
                    self.answered += 1
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _answer(
        self, candidates: tuple[APIRoute, ...], scope: Scope, receive: Receive, send: Send
    ) -> Response | None:
        """The route's answer if it is a 200 or a 404 error, else None (FastAPI is to answer)."""
        for route in candidates:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                break
        else:
            return None
        request = Request(scope, receive, send)
        versions = request.query_params.getlist("api-version")
        if len(versions) != 1:
            return None
        scope.update(child_scope)  # as the router does: "route", "endpoint", "path_params"
        try:
            arm = await _arm_request(request, versions[0])
            response = await route.endpoint(arm=arm, **child_scope["path_params"])
        except CloudError as e:
            return error_response(e) if e.status == 404 else None
        except Exception:  # FastAPI runs the route again and answers (its 500, its exception handlers)
            log.debug("fast path fell through on an exception", exc_info=True)
            return None
        if not isinstance(response, Response) or response.status_code != 200:
            return None
        return response


# --- which routes may take the fast path -----------------------------------------------------------------


def plan(fastapi: FastAPI, paths: Collection[str]) -> tuple[APIRoute, ...]:
    """The GET routes of ``fastapi`` whose path is one of ``paths`` and that the fast path may answer (see
    the module docstring); the others are logged and left to FastAPI."""
    routes = list(_flatten(fastapi.router.routes, ""))
    taken: list[APIRoute] = []
    for prefix, route in routes:
        if not (isinstance(route, APIRoute) and route.path in paths and "GET" in (route.methods or ())):
            continue
        why = _ineligible(route, prefix)
        if why is None:
            pattern = _pattern(route.path)
            for other_prefix, other in routes:
                if other is not route and _may_match_get(other) and _overlap(pattern, _effective(other, other_prefix)):
                    why = f"another route may match its paths: {getattr(other, 'path', other)!r}"
                    break
        if why is not None:
            log.warning("route not on the GET fast path", extra={"route": route.path, "reason": why})
            continue
        taken.append(route)
    return tuple(taken)


def _flatten(routes: Collection[BaseRoute], prefix: str) -> Iterator[tuple[str, BaseRoute]]:
    """Every route of a route table with the path prefix it is served under; routers included with
    ``include_router`` are walked (FastAPI keeps them as one route that holds ``original_router``)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _flatten(included.routes, prefix + str(getattr(context, "prefix", None) or ""))
        else:
            yield prefix, route


def _ineligible(route: APIRoute, prefix: str) -> str | None:
    """Why FastAPI would not call ``route.endpoint(arm=<ArmRequest>, **<path parameters>)``, or None."""
    if prefix:
        return "served under a prefix"
    if route.dependencies:
        return "route dependencies"
    if not all(isinstance(c, StringConvertor) for c in route.param_convertors.values()):
        return "a path parameter that is not a string"
    d = route.dependant
    if d.query_params or d.header_params or d.cookie_params or d.body_params:
        return "parameters besides the path's"
    if any(
        (
            d.request_param_name,
            d.websocket_param_name,
            d.http_connection_param_name,
            d.response_param_name,
            d.background_tasks_param_name,
            d.security_scopes_param_name,
        )
    ):
        return "a request, response or background parameter"
    if {p.name for p in d.path_params} != set(route.param_convertors):
        return "path parameters not all taken"
    if len(d.dependencies) != 1 or d.dependencies[0].call is not _arm_request or d.dependencies[0].name != "arm":
        return "dependencies besides the ArmRequest"
    return None


def _may_match_get(route: BaseRoute) -> bool:
    if isinstance(route, Route):
        return route.methods is None or "GET" in route.methods
    return True  # a mount (any method), or a route of a kind not known here


def _pattern(path: str) -> list[Any]:
    out: list[Any] = []
    for part in path.split("/")[1:]:
        if "{" not in part:
            out.append(part)
        elif ":path}" in part:
            out.append(_REST)
            break
        else:
            out.append(_ONE)
    return out


def _effective(route: BaseRoute, prefix: str) -> list[Any]:
    """The segments ``route`` matches (a route of unknown kind: every path)."""
    if isinstance(route, Mount):
        return _pattern(prefix + route.path.rstrip("/")) + [_REST]
    if isinstance(route, Route):
        return _pattern(prefix + route.path)
    return [_REST]


def _overlap(a: list[Any], b: list[Any]) -> bool:
    """Whether some path may match both patterns (literals compared case-insensitively: conservative)."""
    for i in range(max(len(a), len(b)) + 1):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if x is _REST or y is _REST:
            return True
        if x is None or y is None:
            return x is None and y is None
        if x is not _ONE and y is not _ONE and str(x).lower() != str(y).lower():
            return False
    return True  # not reached
