"""The PUT/PATCH pipeline every api-version of every resource type shares; a version supplies a
``VersionCodec`` (its model, update policy, converters, defaults and validator).

``put(body, None, ctx)`` (create):
    body -> parse (strict types, read-only fields dropped) -> envelope checks -> version checks ->
    to_internal onto a new hub -> create defaults -> ``codec.validate``.
``put(body, current, ctx)`` (replace):
    the body is overlaid (RFC 7396) on ``codec.replace_base(current)`` -- for a strict version a skeleton
    that keeps only what a client cannot send back (secrets), so an omitted immutable field counts as a
    change, as in ARO; for a lenient version the full current representation, merged like a PATCH -- then
    parsed as above, converted onto a deep copy of ``current``, diffed against ``current`` with the update
    policy (400 PropertyChangeNotAllowed) and validated.
``patch(body, current, ctx)``:
    the body is merge-patched (``aro.api.mergepatch``) onto the current representation including the
    secrets, then treated like a replace.

The arguments are never mutated; the result is a new hub built from a deep copy of ``current``, so
backend-only fields (for a cluster: infraId, kubeadminPassword, the operation record, ...) survive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aro.api.external import ExternalModel, parse, prune, require_object
from aro.api.immutable import UpdatePolicy, check_update
from aro.api.mergepatch import DEFAULT_WHOLE, merge_patch
from aro.api.resource import Resource
from aro.api.validation import check_ids, check_location, check_provisioning_state, check_tag_values
from aro.api.version import ValidationContext

R = TypeVar("R", bound=ExternalModel)
H = TypeVar("H", bound=Resource)

Render = Callable[[H, bool], dict[str, Any]]
"""(hub, include_secrets) -> external JSON (zero values still present; ``prune`` drops them)."""


def no_checks(ext: Any, body: dict[str, Any], creating: bool) -> None:
    """A version without request checks of its own."""


def nothing_to_keep(new: Any, current: Any) -> None:
    """A kind whose replace keeps nothing the request left empty."""


@dataclass(frozen=True)
class VersionCodec(Generic[R, H]):
    """What one api-version of one hub type contributes to the pipeline."""

    hub: type[H]
    model: type[R]
    policy: UpdatePolicy
    render: Render[H]
    # Writes the fields this version maps from the parsed request onto the (copied) hub.
    to_internal: Callable[[R, H], None]
    create_defaults: Callable[[H, ValidationContext], None]
    # Every field rule, on the hub the request produced (create: after defaults; update: ``ctx.current``
    # is the resource as it was, for rules that compare).
    validate: Callable[[H, ValidationContext, bool], None]  # (hub, ctx, creating)
    # Base a PUT replace overlays the body on.
    replace_base: Callable[[H], dict[str, Any]]
    # Version-specific request checks: (parsed request, raw body, creating).
    check: Callable[[R, dict[str, Any], bool], None] = no_checks
    # On replace: fields the request left empty that keep their current value (new, current).
    keep_on_replace: Callable[[H, H], None] = nothing_to_keep
    # True: a PUT replace merges like a PATCH (lists by name), so omitted fields keep their values.
    lenient_replace: bool = False
    tracked: bool = True  # location and tags (tracked resource) or neither (proxy resource)
    # PATCH: members a patch replaces as a whole instead of merging (ARM: ``tags``; ARO: the cluster identity).
    patch_whole: tuple[tuple[str, ...], ...] = DEFAULT_WHOLE


class VersionedResourceAPI(Generic[R, H]):
    """``aro.api.version.ResourceAPI`` for one api-version."""

    def __init__(self, codec: VersionCodec[R, H]) -> None:
        self.codec = codec

    def to_external(self, hub: H) -> dict[str, Any]:
        return dict(prune(self.codec.render(hub, False)))

    def put(self, body: Any, current: H | None, ctx: ValidationContext) -> H:
        raw = require_object(body)
        if current is None:
            return self._apply(raw, merge_patch({}, raw, whole=(), named_lists=False), None, ctx)
        base = self.codec.replace_base(current)
        doc = merge_patch(base, raw, named_lists=self.codec.lenient_replace)
        return self._apply(raw, doc, current, ctx)

    def patch(self, body: Any, current: H, ctx: ValidationContext) -> H:
        raw = require_object(body)
        doc = merge_patch(prune(self.codec.render(current, True)), raw, whole=self.codec.patch_whole)
        return self._apply(raw, doc, current, ctx)

    def _apply(self, raw: dict[str, Any], doc: dict[str, Any], current: H | None, ctx: ValidationContext) -> H:
        codec = self.codec
        check_ids(raw, ctx)
        if codec.tracked:
            check_tag_values(raw)
        if current is not None:
            check_provisioning_state(raw, current)
        ext = parse(codec.model, codec.policy.strip_read_only(doc))
        if codec.tracked:
            check_location(getattr(ext, "location", None), ctx)
        codec.check(ext, raw, current is None)

        if current is None:
            new = codec.hub(id=ctx.resource_id, name=ctx.name, type=ctx.resource_type)
            if codec.tracked:
                new.location = ctx.location
        else:
            new = current.copy_deep()
        if codec.tracked:
            new.tags = dict(getattr(ext, "tags", None) or {})
        codec.to_internal(ext, new)

        if current is None:
            codec.create_defaults(new, ctx)
        else:
            codec.keep_on_replace(new, current)
            check_update(prune(codec.render(current, True)), prune(codec.render(new, True)), codec.policy)
        codec.validate(new, ctx if current is None else dataclasses.replace(ctx, current=current), current is None)
        return new
