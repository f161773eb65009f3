"""The documents of the RP's containers, typed (``TypedDict``: they are the JSON the stores hold).

Every document carries the store's fields (``Document``). The typed accessors
(``aro.database.asyncoperations.AsyncOperations``, ``aro.database.subscriptions.Subscriptions``) cast what
a store returns to these types in one place; a resource document's hub is reached through its kind's
``SealedCodec``.
"""

from __future__ import annotations

from typing import Any, TypedDict


class Document(TypedDict, total=False):
    id: str
    partitionKey: str
    key: str
    etag: str
    ts: float
    ttl: int
    leaseOwner: str | None
    leaseExpires: float
    dequeues: int


class ResourceDocument(Document, total=False):
    """Plus the hub under the kind's ``document_field`` (``openShiftCluster``: ...)."""

    asyncOperationId: str | None  # the operation running on the resource (frontend- or backend-started)


class AsyncOperation(TypedDict, total=False):
    """What ARM's operation status route shows (``initialStatus`` excepted)."""

    id: str
    name: str
    status: str
    initialStatus: str
    startTime: str
    endTime: str
    error: dict[str, Any]


class OperationDocument(Document, total=False):
    resourceKey: str  # the resource's document key
    container: str  # the resource's container (hence its kind)
    request: str  # Create | Update | Delete | an action's request
    implicit: bool  # started by the backend (a cascade): never shown to clients
    asyncOperation: AsyncOperation


class SubscriptionView(TypedDict, total=False):
    state: str
    registrationDate: str
    properties: dict[str, Any]


class SubscriptionDocument(Document, total=False):
    deleting: bool  # claimable: the backend deletes every resource of the subscription
    subscription: SubscriptionView
