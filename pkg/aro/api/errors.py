"""The one ARM error type.

`CloudError` is raised anywhere in the request or backend path and rendered by one exception handler as
the ARM envelope ``{"error": {"code", "message", "target"?, "details"?}}`` -- the shape
``azure.mgmt.core.exceptions.ARMErrorFormat`` parses. ``temporary`` (never rendered) marks an error the
cloud layer expects to clear by itself (a 429/5xx that outlasted the SDK's retries, an unreachable
endpoint): the backend re-queues such a step instead of failing the operation (``aro.steps.outcomes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# 400
INVALID_PARAMETER = "InvalidParameter"
INVALID_REQUEST_CONTENT = "InvalidRequestContent"
INVALID_RESOURCE_TYPE = "InvalidResourceType"
INVALID_RESOURCE_NAMESPACE = "InvalidResourceNamespace"
INVALID_SUBSCRIPTION_ID = "InvalidSubscriptionID"
INVALID_SUBSCRIPTION_STATE = "InvalidSubscriptionState"
INVALID_LOCATION = "InvalidLocation"
INVALID_OPERATION_ID = "InvalidOperationID"
INVALID_CIDR_RANGE = "InvalidCIDRRange"
INVALID_NETWORK_ADDRESS = "InvalidNetworkAddress"
MISMATCHING_RESOURCE_ID = "MismatchingResourceID"
MISMATCHING_RESOURCE_NAME = "MismatchingResourceName"
MISMATCHING_RESOURCE_TYPE = "MismatchingResourceType"
MULTIPLE_ERRORS_OCCURRED = "MultipleErrorsOccurred"
PROPERTY_CHANGE_NOT_ALLOWED = "PropertyChangeNotAllowed"
REQUEST_NOT_ALLOWED = "RequestNotAllowed"
RESOURCE_GROUP_NOT_FOUND = "ResourceGroupNotFound"
REQUEST_BODY_TOO_LARGE = "RequestBodyTooLarge"
# 403 / 404 / 409 / 412 / 415
FORBIDDEN = "Forbidden"
RESOURCE_NOT_FOUND = "ResourceNotFound"
PARENT_RESOURCE_NOT_FOUND = "ParentResourceNotFound"
NOT_FOUND = "NotFound"
CONFLICT = "Conflict"
PRECONDITION_FAILED = "PreconditionFailed"
UNSUPPORTED_MEDIA_TYPE = "UnsupportedMediaType"
METHOD_NOT_ALLOWED = "MethodNotAllowed"
# 500 and backend outcomes
INTERNAL_SERVER_ERROR = "InternalServerError"
OPERATION_TIMED_OUT = "OperationTimedOut"
DEPLOYMENT_FAILED = "DeploymentFailed"
CLUSTER_RESOURCE_GROUP_ALREADY_EXISTS = "ClusterResourceGroupAlreadyExists"
DUPLICATE_RESOURCE_GROUP = "DuplicateResourceGroup"


@dataclass
class CloudError(Exception):
    """An ARM error: HTTP status plus the error body ARM clients parse."""

    status: int
    code: str
    message: str
    target: str | None = None
    details: list[CloudError] = field(default_factory=list)
    temporary: bool = field(default=False, compare=False)
    headers: dict[str, str] = field(default_factory=dict, compare=False)  # e.g. Retry-After on a 409

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        """The inner ``error`` object (also the shape stored in async operations)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            out["target"] = self.target
        if self.details:
            out["details"] = [d.body() for d in self.details]
        return out

    def envelope(self) -> dict[str, Any]:
        return {"error": self.body()}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" + (f" (target {self.target})" if self.target else "")

    @classmethod
    def from_body(cls, status: int, body: dict[str, Any]) -> CloudError:
        return cls(
            status,
            str(body.get("code") or INTERNAL_SERVER_ERROR),
            str(body.get("message") or ""),
            body.get("target"),
            [cls.from_body(status, d) for d in body.get("details") or [] if isinstance(d, dict)],
        )


def bad_request(code: str, message: str, target: str | None = None) -> CloudError:
    return CloudError(400, code, message, target)


def invalid_parameter(target: str, message: str) -> CloudError:
    return CloudError(400, INVALID_PARAMETER, message, target)


def internal_server_error() -> CloudError:
    return CloudError(500, INTERNAL_SERVER_ERROR, "Internal server error.")
