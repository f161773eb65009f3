"""Fuzz drill: schemathesis generates requests from the RP's own ``/openapi.json`` and sends them to a
running `aro rp` over HTTPS. Every answer must be:
- no 5xx;
- within the documented schema (status code, content type, body; any status not listed is an ARM error,
  ``default: CloudError``);
- for every 4xx: the ARM error envelope ``{"error": {"code", "message", "target"?, "details"?}}``, JSON,
  and no internals (no traceback, no module paths);
- with an ``x-ms-request-id``.

Most cases are positive (valid per the document: the documented ``api-version``, UUID subscription ids,
names that pass ARM's rule, so the requests get past routing into validation); the rest are negative
(some part deliberately violates the document). Half the positive requests on a cluster URL are aimed at
a real cluster, so that PUT/PATCH/POST meet an existing resource (immutability, busy states, credentials).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import RPProcess
from tests.drills.scale import Scale, record
from tests.frontend.helpers import UUID, Arm, new_sub

POSITIVE_SHARE = 0.8
ERROR_FIELDS = {"code", "message", "target", "details", "additionalInfo"}


def _without_echo(message: str, sent: str) -> str:
    """``message`` without the quoted values that the request itself carried: an error may name the bad
    input (``api version 'aro.backend.x'``: hypothesis draws strings from our source), which is no leak."""
    return re.sub(r"'([^']*)'", lambda m: "''" if m[1] and m[1] in sent else m[0], message)


def sent_text(response: Any) -> str:
    """What the client sent (URL, decoded, and body) as far as the response still knows its request."""
    request = getattr(response, "request", None)
    if request is None:
        return ""
    body = request.body or b""
    return unquote(str(request.url)) + (body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body))


def arm_envelope_problem(response: Any, sent: str = "") -> str | None:
    """Why a 4xx/5xx answer is not an ARM error, or None. ``sent``: the request, whose values an error
    message may echo."""
    if response.status_code < 400:
        return None
    content_type = str(response.headers.get("content-type", ""))
    if "application/json" not in content_type:
        return f"content type {content_type!r}"
    try:
        body = json.loads(response.content)
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return f"not an error envelope: {str(body)[:200]}"
    err = body["error"]
    if not (isinstance(err.get("code"), str) and err["code"] and isinstance(err.get("message"), str)):
        return f"error without code/message: {err}"
    if set(err) - ERROR_FIELDS:
        return f"unknown error fields {sorted(set(err) - ERROR_FIELDS)}"
    message = _without_echo(err["message"], sent)
    if "Traceback" in message or "aro." in message:
        return f"internals in the message: {err['message'][:200]}"
    return None


def header(response: Any, name: str) -> str:
    value = response.headers.get(name) or response.headers.get(name.title()) or ""
    return str(value[0] if isinstance(value, list) and value else value)


@pytest.fixture(scope="module")
def target(arm: Arm) -> dict[str, str]:
    """A registered subscription with one Succeeded cluster: path parameters to aim requests at."""
    sub = new_sub()
    arm.register(sub)
    arm.create(sub, "fuzz-rg", "fuzzed")
    return {"subscriptionId": sub, "resourceGroupName": "fuzz-rg", "resourceName": "fuzzed"}


def test_generated_requests_get_documented_answers(
    rp: RPProcess, arm: Arm, target: dict[str, str], scale: Scale
) -> None:
    document = arm.client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    verify = str(rp.ca_file)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    answers: Counter[str] = Counter()
    failures: dict[str, str] = {}
    failure_count: Counter[str] = Counter()
    aimed: Counter[str] = Counter()

    def run(case: Any, aim: bool) -> None:
        if aim and "resourceName" in (case.path_parameters or {}) and case.method.upper() != "DELETE":
            case.path_parameters = {**case.path_parameters, **target}
            aimed[case.method.upper()] += 1
        response = case.call(base_url=rp.base_url, verify=verify, timeout=30)
        code = ""
        if response.status_code >= 400:
            try:
                code = " " + str(json.loads(response.content)["error"]["code"])
            except (ValueError, KeyError, TypeError):
                code = " ?"
        answers[f"{case.method.upper()} {response.status_code}{code}"] += 1
        problems = []
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as group:  # every failed check, with its reason
            problems += [f"{type(e).__name__}: {str(e)[:800]}" for e in group.exceptions]
        envelope = arm_envelope_problem(response, sent_text(response))
        if envelope:
            problems.append(f"ARM error envelope: {envelope}")
        if not UUID.match(header(response, "x-ms-request-id")):
            problems.append("no x-ms-request-id")
        for problem in problems:
            key = f"{case.operation.label} -> {response.status_code}: {problem.splitlines()[0][:120]}"
            failure_count[key] += 1
            shown = response.content[:300].decode("utf-8", "replace")  # (a gzip archive is not text)
            request = f"{case.as_curl_command()}\n  -> {response.status_code} {shown}"
            failures.setdefault(key, f"{request}\n  {problem}")

    def fuzz(operation: Any, mode: GenerationMode, examples: int) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode), aim=st.booleans())
        def one(case: Any, aim: bool) -> None:
            run(case, aim and mode is GenerationMode.POSITIVE)

        try:
            one()
        except Unsatisfiable:  # nothing to violate: an operation without parameters or body
            assert mode is GenerationMode.NEGATIVE and not operation.definition.raw.get("parameters")
            unnegatable.append(operation.label)

    operations = [result.ok() for result in schema.get_all_operations()]
    unnegatable: list[str] = []
    per_operation = max(1, scale.fuzz_cases // len(operations))
    positive = max(1, round(per_operation * POSITIVE_SHARE))
    started = time.monotonic()
    for operation in operations:  # an even spread: every operation gets its share
        fuzz(operation, GenerationMode.POSITIVE, positive)
        fuzz(operation, GenerationMode.NEGATIVE, max(1, per_operation - positive))
    elapsed = time.monotonic() - started
    sent = sum(answers.values())
    by_class = Counter(f"{k.split()[1][0]}xx" for k in answers.elements())
    record(
        "fuzz",
        operations=len(operations),
        requests=sent,
        seconds=round(elapsed, 1),
        answers=dict(sorted(by_class.items())),
        most_common=", ".join(f"{k} x{n}" for k, n in answers.most_common(8)),
        aimed_at_the_real_cluster=dict(aimed),
        failures=sum(failure_count.values()),
        operations_without_negative_cases=len(unnegatable),
    )
    assert not failures, "\n\n".join(f"[x{failure_count[k]}] {v}" for k, v in failures.items())
    # the generator reached past routing: some requests were served, not all refused at the door
    assert by_class["2xx"] > 0 and sent >= scale.fuzz_cases // 2, dict(answers)
    assert httpx.get(rp.base_url + "/healthz/ready", verify=rp.ssl_context()).status_code == 200
