"""``POST /api/telemetry/v1/upload``: a cluster's telemetry report (``aro.ledger.telemetry``), with the token
its ``aro-telemeter`` Secret holds. 204 once the ledger has it; 401 for a token that is not ours."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response

from aro.frontend.ams.common import LedgerDep, json_body
from aro.ledger.model import LedgerError
from aro.ledger.telemetry import MAX_REPORT_BYTES, UPLOAD_PATH, parse_report

router = APIRouter()


@router.post(UPLOAD_PATH.removeprefix("/api"), summary="Upload a cluster's telemetry report")
async def upload(request: Request, ledger: LedgerDep) -> Response:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LedgerError(401, "Authentication required: the cluster's telemetry token")
    org_id = ledger.tokens.organization(token.strip())
    if await ledger.organizations.get(org_id) is None:
        raise LedgerError(401, "The telemetry token's organization does not exist")
    external_id, metrics = parse_report(await json_body(request, MAX_REPORT_BYTES), time.time())
    await ledger.subscriptions.ingest(org_id, external_id, metrics)
    return Response(status_code=204)
