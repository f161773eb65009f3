"""``/api/accounts_mgmt/v1/organizations[/{id}]``, ``accounts[/{id}]`` and ``current_account`` (who the
token is), and -- in development mode only, from loopback only -- ``POST /api/auth/token``, which `aro
login` asks for a token. A caller sees its own organization and its accounts; an SRE sees every one."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from aro.database import Doc
from aro.database.query import Compare, Query
from aro.frontend.ams.common import Caller, LedgerDep, answer, json_body, search_list
from aro.frontend.services import services_of
from aro.ledger.accounts import render_account
from aro.ledger.fields import ACCOUNT_FIELDS, ORGANIZATION_FIELDS
from aro.ledger.model import LedgerError, OwnerType, href, not_found, render_organization

router = APIRouter()
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}\Z")
_GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")


@router.get("/accounts_mgmt/v1/organizations", summary="Search organizations")
async def list_organizations(request: Request, ledger: LedgerDep, principal: Caller) -> Response:
    scope = None if principal.sre else Compare(("organization", "id"), "=", principal.organization_id)
    orgs = ledger.organizations
    return await search_list(request, "Organization", ORGANIZATION_FIELDS, orgs.search, render_organization, scope)


@router.get("/accounts_mgmt/v1/organizations/{organization_id}", summary="Get an organization")
async def get_organization(organization_id: str, ledger: LedgerDep, principal: Caller) -> Response:
    doc = await ledger.organizations.get(organization_id) if principal.may_see(organization_id) else None
    if doc is None:
        raise not_found("Organization", organization_id)
    caps = await ledger.labels.capabilities(doc["id"])
    labels = await ledger.labels.list(OwnerType.ORGANIZATION, doc["id"], doc["id"])
    values = {d["label"]["key"]: str(d["label"]["value"]) for d in labels}
    body = render_organization(doc)
    body["capabilities"] = [{"name": c, "value": values.get(c, "true"), "inherited": False} for c in sorted(caps)]
    return answer(body)


@router.get("/accounts_mgmt/v1/accounts", summary="Search accounts")
async def list_accounts(request: Request, ledger: LedgerDep, principal: Caller) -> Response:
    async def run(query: Query) -> tuple[list[Doc], int]:
        return await ledger.accounts.search(query, None if principal.sre else principal.organization_id)

    return await search_list(request, "Account", ACCOUNT_FIELDS, run, render_account)


@router.get("/accounts_mgmt/v1/accounts/{account_id}", summary="Get an account")
async def get_account(account_id: str, ledger: LedgerDep, principal: Caller) -> Response:
    doc = await ledger.accounts.get(account_id, None if principal.sre else principal.organization_id)
    if doc is None:
        raise not_found("Account", account_id)
    return answer(render_account(doc))


@router.get("/accounts_mgmt/v1/current_account", summary="The account of the token")
async def current_account(ledger: LedgerDep, principal: Caller) -> Response:
    doc = await ledger.accounts.get(principal.account_id, principal.organization_id)
    body: dict[str, Any] = (
        render_account(doc)
        if doc is not None
        else {
            "id": principal.account_id,
            "kind": "Account",
            "href": href("accounts", principal.account_id),
            "username": principal.username,
        }
    )
    organization: dict[str, Any] = {"id": principal.organization_id, "kind": "Organization"}
    organization["href"] = href("organizations", principal.organization_id)
    org = await ledger.organizations.get(principal.organization_id)
    if org is not None:
        organization.update(name=org["organization"]["name"], external_id=org["organization"]["external_id"])
    body["organization"] = organization
    return answer(body)


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.post("/auth/token", summary="A development token (`aro login`)")
async def token(request: Request, ledger: LedgerDep) -> Response:
    issuer = services_of(request).token_issuer
    if issuer is None:
        raise LedgerError(404, "Tokens are issued here only in development mode; use the OIDC issuer")
    if not _loopback(request):
        raise LedgerError(403, "Development tokens are issued to loopback clients only")
    body = await json_body(request)
    if not isinstance(body, dict):
        raise LedgerError(400, "The request body must be a JSON object")
    username = body.get("username")
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise LedgerError(400, "'username' must be 1-128 letters, digits or . _ @ + -")
    groups = body.get("groups") or []
    if (
        not isinstance(groups, list)
        or len(groups) > 20
        or not all(isinstance(g, str) and _GROUP.match(g) for g in groups)
    ):
        raise LedgerError(400, "'groups' must be a list of at most 20 group names")
    wanted = body.get("organization") or ledger.settings.default_tenant_id
    if not isinstance(wanted, str) or len(wanted) > 64:
        raise LedgerError(400, "'organization' must be an organization id or an Azure tenant id")
    org = await ledger.organizations.resolve(wanted)
    if org is None:
        raise LedgerError(404, f"Organization '{wanted}' not found (give its id, or an Azure tenant id)")
    access, expires = issuer.issue(username, org["id"], groups)
    await ledger.accounts.record(org["id"], username)  # an account from its login on, as AMS has it
    return answer(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": issuer.lifetime,
            "expires_at": expires,
            "organization": {"id": org["id"], "external_id": org["organization"]["external_id"]},
        }
    )
