"""The PUT/PATCH pipeline every api-version shares; a version supplies only a ``ClusterCodec``.

``put(body, None, ctx)`` (create):
    body -> parse (strict types, read-only fields dropped) -> envelope checks -> version checks ->
    to_internal onto a new cluster -> create defaults -> ``validate_cluster``.
``put(body, current, ctx)`` (replace):
    the body is overlaid (RFC 7396) on ``codec.replace_base(current)`` -- for 2025-07-25 a skeleton that
    keeps only the secrets and the version, so an omitted immutable field counts as a change, as in ARO;
    for a lenient version the full current representation, merged like a PATCH -- then parsed as above,
    converted onto a deep copy of ``current``, diffed against ``current`` with the update policy
    (400 PropertyChangeNotAllowed) and validated.
``patch(body, current, ctx)``:
    the body is merge-patched (``aro.api.mergepatch``) onto the current representation including the
    secrets, then treated like a replace.

The arguments are never mutated; the result is a new ``OpenShiftCluster`` built from a deep copy of
``current``, so backend-only fields (infraId, kubeadminPassword, install, ...) survive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aro.api.cluster import RESOURCE_TYPE, OpenShiftCluster
from aro.api.defaults import keep_current_when_empty
from aro.api.external import TrackedResource, parse, prune, require_object
from aro.api.immutable import UpdatePolicy, check_update
from aro.api.mergepatch import merge_patch
from aro.api.validation import (
    ClusterRules,
    check_ids,
    check_location,
    check_provisioning_state,
    check_resource_name,
    validate_cluster,
)
from aro.api.version import ValidationContext

R = TypeVar("R", bound=TrackedResource)

# (cluster, include_secrets) -> external JSON (zero values still present; ``prune`` drops them).
Render = Callable[[OpenShiftCluster, bool], dict[str, Any]]


def no_checks(ext: Any, body: dict[str, Any], creating: bool) -> None:
    """A version without request checks of its own."""


@dataclass(frozen=True)
class ClusterCodec(Generic[R]):
    """What one api-version contributes to the pipeline."""

    model: type[R]
    policy: UpdatePolicy
    render: Render
    # Writes the fields this version maps from the parsed request onto the (copied) cluster.
    to_internal: Callable[[R, OpenShiftCluster], None]
    create_defaults: Callable[[OpenShiftCluster, ValidationContext], None]
    # Base a PUT replace overlays the body on.
    replace_base: Callable[[OpenShiftCluster], dict[str, Any]]
    # Version-specific request checks: (parsed request, raw body, creating).
    check: Callable[[R, dict[str, Any], bool], None] = no_checks
    rules: ClusterRules = ClusterRules()
    # True: a PUT replace merges like a PATCH (lists by name), so omitted fields keep their values.
    lenient_replace: bool = False


class VersionedClusterAPI(Generic[R]):
    """``aro.api.version.ClusterAPI`` for one api-version."""

    def __init__(self, codec: ClusterCodec[R]) -> None:
        self.codec = codec

    def to_external(self, oc: OpenShiftCluster) -> dict[str, Any]:
        return dict(prune(self.codec.render(oc, False)))

    def put(self, body: Any, current: OpenShiftCluster | None, ctx: ValidationContext) -> OpenShiftCluster:
        raw = require_object(body)
        if current is None:
            return self._apply(raw, merge_patch({}, raw, whole=(), named_lists=False), None, ctx)
        base = self.codec.replace_base(current)
        doc = merge_patch(base, raw, named_lists=self.codec.lenient_replace)
        return self._apply(raw, doc, current, ctx)

    def patch(self, body: Any, current: OpenShiftCluster, ctx: ValidationContext) -> OpenShiftCluster:
        raw = require_object(body)
        doc = merge_patch(prune(self.codec.render(current, True)), raw)
        return self._apply(raw, doc, current, ctx)

    def _apply(
        self,
        raw: dict[str, Any],
        doc: dict[str, Any],
        current: OpenShiftCluster | None,
        ctx: ValidationContext,
    ) -> OpenShiftCluster:
        codec = self.codec
        if current is None:
            check_resource_name(ctx.name)
        check_ids(raw, ctx)
        _check_tag_values(raw)
        if current is not None:
            check_provisioning_state(raw, current)
        ext = parse(codec.model, codec.policy.strip_read_only(doc))
        check_location(ext.location, ctx)
        codec.check(ext, raw, current is None)

        if current is None:
            new = OpenShiftCluster(id=ctx.resource_id, name=ctx.name, type=RESOURCE_TYPE, location=ctx.location)
        else:
            new = current.copy_deep()
        new.tags = dict(ext.tags or {})
        codec.to_internal(ext, new)

        if current is None:
            codec.create_defaults(new, ctx)
        else:
            keep_current_when_empty(new, current)
            check_update(prune(codec.render(current, True)), prune(codec.render(new, True)), codec.policy)
        validate_cluster(new, ctx, creating=current is None, rules=codec.rules)
        return new


def _check_tag_values(raw: dict[str, Any]) -> None:
    """Tags are replaced whole, so a ``null`` tag value is not a merge-patch deletion but a tag without a
    string value: 400 InvalidRequestContent (target ``tags.<key>``), as for any other non-string value.
    (The merge below drops nulls, which would otherwise silently drop the tag, and with it the rest.)"""
    if isinstance(raw.get("tags"), dict):
        parse(TrackedResource, {"tags": raw["tags"]})
