"""The admin PATCH of hosted clusters and node pools (``PATCH /admin{resourceId}``, SRE only; see
``aro.frontend.admin``): ``{"properties": {"pausedUntil": ..., "featureSet": ..., "desiredVersion": ...,
"powerState": ...}}`` (node pools: ``pausedUntil`` only). Checked strictly: any other field is 400
``InvalidRequestContent`` naming it; every bad value is reported (``MultipleErrorsOccurred`` for several);
nothing is written on a refusal.

- ``pausedUntil`` (HyperShift's): ``true`` / ``false`` (a JSON boolean or the strings, also ``True`` /
  ``False``), an RFC 3339 date and time, or null / "" (not paused); 4-35 characters (``aro.api.hcp.pausing``).
- ``featureSet``: ``Default`` (or "" / null) or ``TechPreviewNoUpgrade``, which cannot be undone
  (``aro.api.hcp.featureset``).
- ``desiredVersion``: an ``X.Y.Z`` of the versions catalog -- enabled, not past its end of life, in the
  cluster's channel group -- of the cluster's release line ``version.id`` (a z-stream; a minor upgrade is a
  change of ``version.id``); null / "" goes back to the newest enabled z-stream of ``version.id``.
- ``powerState``: ``Hibernating`` (every node pool's VMs deallocated; the control plane keeps running on
  the management cluster) or ``Running`` (started again); see ``aro.api.power`` for when it is refused
  (not Succeeded: 409; already in that state: 400) and when the cluster counts as hibernating.

**How a change is carried out.** A PATCH that sets ``featureSet``, ``desiredVersion`` or ``powerState`` runs
an ``Update`` operation (202 + Location; 409 while another operation runs): the backend reconciles the
control plane and carries out the power change (a ``pausedUntil`` in the same PATCH applies to that
operation too: it waits while paused). A PATCH that sets
**only** ``pausedUntil`` is *record-only*: nothing changes in the cloud when it is set -- the backend reads
the value every time it claims the resource -- so it is written to the stored document directly
(etag-conditional, no operation, 200 with the document) whatever the resource's state. That is what makes
a pause liftable at all: an operation that waits on the pause keeps the resource non-terminal (``Updating``),
and every write that starts an operation is refused then (409); the unpausing PATCH is written anyway and
makes the waiting operation claimable at once. The ``ReconciliationActive`` condition is recorded with the
value (False while it pauses; True again once it does not), so the pause shows at once. A dated pause that
ends while no operation is queued keeps showing False until the resource's next operation runs (there is
no reconcile loop between operations to notice the time passing).
"""

from __future__ import annotations

import time
from typing import Any

from aro.api import errors, power
from aro.api.errors import CloudError
from aro.api.hcp import catalog, featureset, pausing
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.fielderrors import FieldErrors
from aro.api.hcp.nodepool import NodePool
from aro.api.hcp.versioning import parse_any, parse_full
from aro.api.resource import Request
from aro.api.version import ValidationContext

P = "properties"
PAUSED_UNTIL, FEATURE_SET, DESIRED_VERSION = "pausedUntil", "featureSet", "desiredVersion"
POWER_STATE = power.FIELD
CLUSTER_FIELDS = (PAUSED_UNTIL, FEATURE_SET, DESIRED_VERSION, POWER_STATE)
NODE_POOL_FIELDS = (PAUSED_UNTIL,)


def _bad(message: str, target: str | None) -> CloudError:
    return CloudError(400, errors.INVALID_REQUEST_CONTENT, message, target)


def admin_properties(body: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The ``properties`` of an admin PATCH body, with nothing but ``allowed`` in them (400 otherwise)."""
    shape = "{" + '"properties": {' + ", ".join(f'"{f}": ...' for f in allowed) + "}}"
    if not isinstance(body, dict):
        raise _bad(f"The admin update must be a JSON object {shape}.", None)
    props = body.get(P)
    unknown = [str(k)[:64] for k in body if k != P]
    if isinstance(props, dict):
        unknown += [f"{P}.{str(k)[:64]}" for k in props if k not in allowed]
    if unknown:
        listed = ", ".join(sorted(unknown)[:10])
        raise _bad(
            f"Unknown field(s) in the admin update: {listed}. Allowed: {', '.join(f'{P}.{f}' for f in allowed)}.",
            sorted(unknown)[0],
        )
    if not isinstance(props, dict):
        raise _bad(f"The admin update must be a JSON object {shape}.", P)
    if not props:
        raise _bad(f"The admin update changes nothing: set {' or '.join(f'{P}.{f}' for f in allowed)}.", P)
    return dict(props)


def paused_until_value(errs: FieldErrors, value: Any) -> str | None:
    """The stored form of a requested pausedUntil (None: invalid, recorded in ``errs``)."""
    target = f"{P}.{PAUSED_UNTIL}"
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        errs.invalid(target, value, "must be a string: 'true', 'false' or an RFC 3339 date and time")
        return None
    reason = pausing.value_error(value)
    if reason is not None:
        errs.invalid(target, value, reason)
        return None
    return value


def _feature_set(errs: FieldErrors, value: Any, oc: HcpOpenShiftCluster) -> str | None:
    target = f"{P}.{FEATURE_SET}"
    value = "" if value is None else value
    if not isinstance(value, str) or value not in featureset.FEATURE_SETS:
        errs.invalid(target, value, f"must be {featureset.DEFAULT} or {featureset.TECH_PREVIEW}")
        return None
    new = featureset.stored(value)
    reason = featureset.change_error(oc.properties.feature_set, new)
    if reason is not None:
        errs.invalid(target, value, reason)
        return None
    return new


def _desired_version(errs: FieldErrors, value: Any, oc: HcpOpenShiftCluster, ctx: ValidationContext) -> str | None:
    target = f"{P}.{DESIRED_VERSION}"
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or parse_full(value) is None:
        errs.invalid(target, value, "must be an OpenShift version MAJOR.MINOR.PATCH")
        return None
    parsed, line = parse_full(value), parse_any(oc.properties.version.id)
    assert parsed is not None
    if line is None or parsed.line != line.line:
        errs.invalid(
            target,
            value,
            f"must be a z-stream of the cluster's version {oc.properties.version.id!r} "
            f"(a minor upgrade changes {P}.version.id)",
        )
        return None
    channel = oc.properties.version.channel_group
    entry = catalog.find(ctx.catalog, value, channel)
    if entry is None or not entry.available(catalog.utcnow()):
        errs.invalid(target, value, f"is not an enabled version of channel group '{channel}'")
        return None
    return value


def cluster_admin_patch(oc: HcpOpenShiftCluster, body: Any, ctx: ValidationContext) -> str | None:
    """Apply an admin PATCH to ``oc`` (a copy); the request to run, or None for a record-only pause."""
    props = admin_properties(body, CLUSTER_FIELDS)
    errs = FieldErrors()
    paused = paused_until_value(errs, props[PAUSED_UNTIL]) if PAUSED_UNTIL in props else None
    feature = _feature_set(errs, props[FEATURE_SET], oc) if FEATURE_SET in props else None
    desired = _desired_version(errs, props[DESIRED_VERSION], oc, ctx) if DESIRED_VERSION in props else None
    wanted = props.get(POWER_STATE)
    if POWER_STATE in props and power.value_error(wanted) is not None:
        errs.invalid(f"{P}.{POWER_STATE}", wanted, str(power.value_error(wanted)))
    errs.raise_if_any()
    p = oc.properties
    if POWER_STATE in props:
        power.apply(p, str(wanted), conflict=True)  # 409 unless Succeeded, 400 when already in that state
    if paused is not None:
        p.paused_until = paused
        pausing.record(p.status.conditions, paused, time.time())
    if feature is not None:
        p.feature_set = feature
    if desired is not None:
        p.desired_version = desired
    return None if set(props) == {PAUSED_UNTIL} else Request.UPDATE


def node_pool_admin_patch(np: NodePool, body: Any, ctx: ValidationContext) -> str | None:
    """A node pool's admin PATCH: its pause, always record-only."""
    props = admin_properties(body, NODE_POOL_FIELDS)
    errs = FieldErrors()
    paused = paused_until_value(errs, props[PAUSED_UNTIL])
    errs.raise_if_any()
    assert paused is not None
    np.properties.paused_until = paused
    pausing.record(np.properties.status.conditions, paused, time.time())
    return None
