"""One rule for query parameters: an operation answers only to the parameters it declares.

An undeclared parameter (a typo, or a filter the operation does not have) is refused rather than
ignored, so it cannot pass for a filter that worked; a parameter declared with one value and given
twice is refused rather than silently cut to one of its values. Under /v1 the refusal is a 422
problem that names the parameter, the nearest declared one and every declared one; under /fhir
the same ``InvalidParameter`` is written as a 400 OperationOutcome (``app.http.problems``). An
operation that takes no query parameters at all refuses a query string as malformed (400).

What an operation declares is read from its FastAPI dependency tree, so the rule cannot drift
from the parameters the OpenAPI document lists.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.routing import APIRoute

from app.errors import BadRequest, InvalidParameter
from app.suggest import suggest


@dataclass(frozen=True)
class Declared:
    names: frozenset[str]  # every query parameter the operation takes
    repeatable: frozenset[str]  # those declared as lists: given once per value


NOTHING = Declared(frozenset(), frozenset())
KEPT_AS = "declared_query"


def declared(route: APIRoute) -> Declared:
    """The query parameters ``route`` declares, its dependencies' included; worked out once per
    route and kept on it (routes are not hashable, so no functools cache)."""
    found = route.__dict__.get(KEPT_AS)
    if isinstance(found, Declared):
        return found
    names: set[str] = set()
    repeatable: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        for param in dependant.query_params:
            names.add(param.alias)
            if _is_list(param.field_info.annotation):
                repeatable.add(param.alias)
        pending.extend(dependant.dependencies)
    found = Declared(frozenset(names), frozenset(repeatable))
    route.__dict__[KEPT_AS] = found
    return found


def _is_list(annotation: Any) -> bool:
    """Whether a parameter's type takes several values (``list[str]``, ``list[str] | None``)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_is_list(arg) for arg in get_args(annotation))
    return origin in (list, set, frozenset, tuple)


def check_query(request: Request) -> None:
    """Refuse a parameter the routed operation does not declare, or a single one given twice."""
    route = request.scope.get("route")
    known = declared(route) if isinstance(route, APIRoute) else NOTHING
    if not known.names and request.scope["query_string"]:
        # Nothing to mistake a parameter for, and no parameter to be invalid: a malformed
        # request (400), so an operation without parameters never answers 422.
        given = ", ".join(dict.fromkeys(request.query_params))
        raise BadRequest(f"{given}: this operation takes no query parameters")
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name not in known.names:
            nearest = suggest(name, known.names)
            hint = f" (did you mean '{nearest}'?)" if nearest else ""
            takes = ", ".join(sorted(known.names)) or "no parameters"
            reason = f"unknown parameter{hint}; this operation takes: {takes}"
            raise InvalidParameter(
                f"{name}: {reason}",
                errors=[{"parameter": name, "in": "query", "reason": reason}],
                **({"suggestion": nearest} if nearest else {}),
            )
        if name in seen and name not in known.repeatable:
            reason = "given more than once; this parameter takes one value"
            raise InvalidParameter(
                f"{name}: {reason}", errors=[{"parameter": name, "in": "query", "reason": reason}]
            )
        seen.add(name)


async def strict_query(request: Request) -> None:
    """``check_query`` as a dependency of every operation of a router; async, so FastAPI runs it
    on the event loop instead of sending it to a worker thread."""
    check_query(request)
