"""Labels of an organization or a subscription (``…/{organizations|subscriptions}/{id}/labels[/{key}]``),
served alike for both owners: the list (not paged, as AMS's), one by key, add-or-change, delete.

Who may: the owner's organization reads them; an SRE writes an organization's labels (they are its
capabilities); the organization writes its subscriptions' labels, except ``internal`` ones and
``capability.*`` ones (an SRE's: a cluster's capabilities). The check is made again on the label the
conditional write changes, so a label that became internal meanwhile is not overwritten.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from aro.database import Doc
from aro.frontend.ams.common import Caller, LedgerDep, answer, json_body, require_sre
from aro.ledger.identity import Principal
from aro.ledger.labels import check_label
from aro.ledger.model import LedgerError, OwnerType, list_body, not_found, render_label
from aro.ledger.service import Ledger

router = APIRouter()
CAPABILITY_PREFIX = "capability."


async def owner(ledger: Ledger, principal: Principal, kind: OwnerType, owner_id: str) -> tuple[str, Doc]:
    """``(organization id, owner document)``, or 404 when the caller may not see it."""
    if kind is OwnerType.ORGANIZATION:
        doc = await ledger.organizations.get(owner_id)
        org_id = doc["id"] if doc is not None else ""
    else:
        doc = await ledger.subscriptions.get(owner_id, None if principal.sre else principal.organization_id)
        org_id = doc["partitionKey"] if doc is not None else ""
    if doc is None or not principal.may_see(org_id):
        raise not_found(kind.value, owner_id)
    return org_id, doc


async def label(ledger: Ledger, kind: OwnerType, owner_id: str, org_id: str, key: str) -> Doc:
    doc = await ledger.labels.get(kind, owner_id, org_id, key)
    if doc is None:
        raise LedgerError(404, f"Label '{key[:64]}' not found")
    return doc


def may_write(principal: Principal, kind: OwnerType, internal: bool, key: str) -> None:
    if kind is OwnerType.ORGANIZATION:
        require_sre(principal, "change an organization's labels (its capabilities)")
    elif key.startswith(CAPABILITY_PREFIX):
        require_sre(principal, "change a capability label")
    elif internal:
        require_sre(principal, "change an internal label")


def _routes(kind: OwnerType) -> None:
    base = f"/accounts_mgmt/v1/{kind.segment}/{{owner_id}}/labels"

    @router.get(base, summary=f"List the labels of a {kind.value.lower()}")
    async def list_labels(owner_id: str, ledger: LedgerDep, principal: Caller) -> Response:
        org_id, _ = await owner(ledger, principal, kind, owner_id)
        items = [render_label(d) for d in await ledger.labels.list(kind, owner_id, org_id)]
        return answer(list_body("LabelList", items, 1, len(items)))

    @router.get(base + "/{key:path}", summary=f"Get a label of a {kind.value.lower()}")
    async def get_label(owner_id: str, key: str, ledger: LedgerDep, principal: Caller) -> Response:
        org_id, _ = await owner(ledger, principal, kind, owner_id)
        return answer(render_label(await label(ledger, kind, owner_id, org_id, key)))

    @router.post(base, summary=f"Add or change a label of a {kind.value.lower()}")
    async def add_label(owner_id: str, request: Request, ledger: LedgerDep, principal: Caller) -> Response:
        org_id, _ = await owner(ledger, principal, kind, owner_id)
        key, value, internal = check_label(await json_body(request))
        may_write(principal, kind, internal, key)

        def may_change(current: Doc) -> None:  # in the conditional write: it may have become internal
            may_write(principal, kind, bool(current["label"].get("internal")), key)

        doc, created = await ledger.labels.put(kind, owner_id, org_id, key, value, internal, may_change)
        return answer(render_label(doc), 201 if created else 200)

    @router.delete(base + "/{key:path}", summary=f"Delete a label of a {kind.value.lower()}")
    async def delete_label(owner_id: str, key: str, ledger: LedgerDep, principal: Caller) -> Response:
        org_id, _ = await owner(ledger, principal, kind, owner_id)
        current = await label(ledger, kind, owner_id, org_id, key)
        may_write(principal, kind, bool(current["label"].get("internal")), key)
        await ledger.labels.delete(kind, owner_id, org_id, key)
        return Response(status_code=204)


for _kind in OwnerType:
    _routes(_kind)
