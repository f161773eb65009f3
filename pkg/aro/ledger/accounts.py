"""Accounts: the users of each organization, as AMS lists them (``GET /accounts``, ``/accounts/{id}``).

The ledger records an account the first time it sees one: the user of a bearer token (at its development
login, and on any request of the ledger or the backplane), or a cluster's creator (ARM's
``systemData.createdBy``, when its subscription is reserved), so ``current_account`` and every
subscription's ``creator.href`` resolve. An account is one per (organization, user name): the document's
unique key is ``username:{name}`` in the organization's partition and its id is derived from both, so
racing first sights end with one account and a creator link names the same account as that user's token
does.

``ledgerAccounts``: partition = the organization id; ``{account: {id, username, email?, organization:
{id, kind, href}, created_at, updated_at}}``.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from aro.database import Conflict, Doc, Store
from aro.database.containers import LEDGER_ACCOUNTS
from aro.ledger.fields import ams_time
from aro.ledger.ids import stable_id
from aro.ledger.model import LedgerError, clean_text, href
from aro.ledger.partitioned import ByOrganization

MAX_USERNAME = 256
SEEN_CACHE = 4096  # accounts this process knows are recorded (one store read per new user per process)


def account_id(organization_id: str, username: str) -> str:
    return stable_id("account", organization_id, username)


def account_link(organization_id: str, username: str) -> dict[str, str]:
    """A subscription's ``creator``: a link to the account, with its user name."""
    id = account_id(organization_id, username)
    return {"id": id, "kind": "Account", "href": href("accounts", id), "username": username}


def render_account(doc: Doc) -> dict[str, object]:
    account = doc["account"]
    return {"id": account["id"], "kind": "Account", "href": href("accounts", account["id"]), **account}


class Accounts(ByOrganization):
    def __init__(self, store: Store) -> None:
        super().__init__(store, LEDGER_ACCOUNTS, "account")
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def record(self, organization_id: str, username: str) -> None:
        """Make sure the account exists (idempotent; a user name that is not one -- too long, control
        characters -- is not recorded)."""
        try:
            name = clean_text(username, "user name", MAX_USERNAME)
        except LedgerError:
            return
        id = account_id(organization_id, name)
        if not name or id in self._seen:
            return
        if await self.container.get(organization_id, id) is None:
            now = ams_time(time.time())
            account: dict[str, object] = {
                "id": id,
                "username": name,
                "organization": {
                    "id": organization_id,
                    "kind": "Organization",
                    "href": href("organizations", organization_id),
                },
                "created_at": now,
                "updated_at": now,
            }
            if "@" in name:
                account["email"] = name
            doc: Doc = {"id": id, "partitionKey": organization_id, "key": f"username:{name}", "account": account}
            try:
                await self.container.create(doc)
            except Conflict:  # recorded by a racing request: the same account
                pass
        self._seen[id] = None
        if len(self._seen) > SEEN_CACHE:
            self._seen.popitem(last=False)
