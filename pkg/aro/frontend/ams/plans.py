"""``/api/accounts_mgmt/v1/plans[/{id}]``: the catalog of plans a subscription's ``plan.href`` links to.

The catalog is static (``aro.ledger.model.PLANS``): the list answers ``{kind: "PlanList", page, size, total,
items}`` in id order with AMS's ``page`` and ``size``; a plan is ``{id, kind, href, type, category?, name}``.
Any authenticated caller may read it: a plan belongs to no organization.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from aro.frontend.ams.common import answer, caller, paging
from aro.ledger.model import PLANS, list_body, not_found

router = APIRouter(dependencies=[Depends(caller)])
BASE = "/accounts_mgmt/v1/plans"


@router.get(BASE, summary="List the plans")
async def list_plans(request: Request) -> Response:
    page, size = paging(request)
    plans = [PLANS[id].render_full() for id in sorted(PLANS)]
    start = (page - 1) * size
    return answer(list_body("PlanList", plans[start : start + size], page, len(plans)))


@router.get(BASE + "/{plan_id}", summary="Get a plan")
async def get_plan(plan_id: str) -> Response:
    plan = PLANS.get(plan_id)
    if plan is None:
        raise not_found("Plan", plan_id)
    return answer(plan.render_full())
