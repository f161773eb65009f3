"""Cloud metadata: ``GET /metadata/endpoints?api-version=...``, the discovery document ``az cloud register
--endpoint-resource-manager <simulator URL>`` reads (and Terraform, go-azure-sdk, ... with a metadata host).

Every endpoint is the simulator itself, at the address the client used (the request's ``Host``), so any
port and any loopback name work: ARM, the login endpoint (the token endpoint is ``{login}/{tenant}/oauth2/
v2.0/token``, ``_token``), the token audiences and Microsoft Graph (``_graph``: ``{graph}v1.0/...``).
Anonymous, as in Azure. The shape follows the api-version, as ARM's does:

| api-version | answer |
|---|---|
| ``2022-09-01`` | 200, one cloud: ``{"name", "resourceManager", "authentication": {"loginEndpoint", "audiences",
  "tenant", "identityProvider"}, "microsoftGraphResourceId", "graph", "graphAudience", "portal", "suffixes",
  ...}`` (what ``azure.cli.core.cloud._arm_to_cli_mapper`` parses) |
| ``2019-05-01``, ``2020-06-01`` | 200, a list of clouds (this one) in the same shape |
| ``2015-01-01`` | 200, the old shape: ``{"galleryEndpoint", "graphEndpoint", "portalEndpoint",
  "authentication": {"loginEndpoint", "audiences"}}`` |
| none / another | 400 ``MissingApiVersionParameter`` / ``InvalidApiVersionParameter`` |
"""

from __future__ import annotations

from typing import Any

from ._errors import ArmError
from ._http import Request, Response

CLOUD_NAME = "AroSimulator"
_SINGLE, _LIST, _OLD = "2022-09-01", ("2019-05-01", "2020-06-01"), "2015-01-01"
API_VERSIONS = (_SINGLE, *reversed(_LIST), _OLD)


def handles(req: Request) -> bool:
    return req.lsegs == ["metadata", "endpoints"]


def dispatch(req: Request) -> Response:
    if req.method not in ("GET", "HEAD"):
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on the metadata endpoints.")
    version = req.query.get("api-version")
    if not version:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version == _SINGLE:
        return Response(200, cloud(req.base_url))
    if version in _LIST:
        return Response(200, [cloud(req.base_url)])
    if version == _OLD:
        return Response(200, old_shape(req.base_url))
    raise ArmError(
        400,
        "InvalidApiVersionParameter",
        f"The api-version '{version[:64]}' is invalid. The supported versions are '{','.join(API_VERSIONS)}'.",
    )


def cloud(base_url: str) -> dict[str, Any]:
    """The simulator as one cloud (the 2019-05-01 and later shape). Only what the simulator serves is
    named: no data-plane suffixes (storage, key vault, ...), whose services it does not run."""
    root = f"{base_url}/"
    return {
        "name": CLOUD_NAME,
        "portal": root,
        "resourceManager": root,
        "authentication": {
            "loginEndpoint": root,
            "audiences": [root],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "microsoftGraphResourceId": root,
        "graph": root,
        "graphAudience": root,
        "suffixes": {},
    }


def old_shape(base_url: str) -> dict[str, Any]:
    """The 2015-01-01 shape (one cloud, ``*Endpoint`` names)."""
    root = f"{base_url}/"
    return {
        "galleryEndpoint": root,
        "graphEndpoint": root,
        "portalEndpoint": root,
        "authentication": {"loginEndpoint": root, "audiences": [root]},
    }
