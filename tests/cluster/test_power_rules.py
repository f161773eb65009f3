"""The admin powerState rules as functions, for both hubs: which provisioning states allow a change (a
failed update may retry, a failed create may not), what counts as nothing to change (the state it is in,
no change pending), what is recorded (Hibernating at once, Running only by the resume's step), and the
helpers that tell a hibernating cluster."""

from __future__ import annotations

from typing import Any

import pytest

from aro.api import clusteradmin, power
from aro.api.cluster import OpenShiftCluster
from aro.api.cluster import is_hibernating as classic_hibernating
from aro.api.errors import CloudError
from aro.api.hcp import admin
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.cluster import is_hibernating as hosted_hibernating
from aro.api.resource import ProvisioningState, Request
from aro.api.version import ValidationContext

CTX = ValidationContext(
    resource_id="/subscriptions/s/x", subscription_id="s", resource_group="rg", name="c", location="eastus"
)
S, F = ProvisioningState.SUCCEEDED, ProvisioningState.FAILED


def classic(state: ProvisioningState = S, failed: ProvisioningState | None = None, **props: Any) -> OpenShiftCluster:
    oc = OpenShiftCluster()
    oc.properties.provisioning_state, oc.properties.failed_provisioning_state = state, failed
    for k, v in props.items():
        setattr(oc.properties, k, v)
    return oc


def hosted(state: ProvisioningState = S, failed: ProvisioningState | None = None, **props: Any) -> HcpOpenShiftCluster:
    oc = HcpOpenShiftCluster()
    oc.properties.provisioning_state, oc.properties.failed_provisioning_state = state, failed
    for k, v in props.items():
        setattr(oc.properties, k, v)
    return oc


def patch(oc: Any, value: Any) -> str | None:
    body = {"properties": {"powerState": value}}
    if isinstance(oc, OpenShiftCluster):
        return clusteradmin.admin_patch(oc, body, CTX)
    return admin.cluster_admin_patch(oc, body, CTX)


def refused(oc: Any, value: Any) -> CloudError:
    before = oc.dump()
    with pytest.raises(CloudError) as e:
        patch(oc, value)
    assert oc.dump() == before, "a refused request changed the hub"
    return e.value


@pytest.mark.parametrize("make", [classic, hosted])
def test_hibernate_counts_at_once_and_running_waits_for_the_resume(make: Any) -> None:
    oc = make()
    assert not (classic_hibernating if make is classic else hosted_hibernating)(oc)
    assert patch(oc, "Hibernating") == (Request.ADMIN_UPDATE if make is classic else Request.UPDATE)
    assert (oc.properties.power_state, oc.properties.requested_power_state) == ("Hibernating", "Hibernating")
    assert (classic_hibernating if make is classic else hosted_hibernating)(oc)

    done = make(power_state="Hibernating")  # the hibernation finished
    patch(done, "Running")
    assert (done.properties.power_state, done.properties.requested_power_state) == ("Hibernating", "Running")
    assert power.hibernating(done.properties.power_state)


@pytest.mark.parametrize("make", [classic, hosted])
def test_nothing_to_change_is_400_unless_a_change_is_pending(make: Any) -> None:
    for oc, value in ((make(), "Running"), (make(power_state="Hibernating"), "Hibernating")):
        err = refused(oc, value)
        assert (err.status, err.code, err.target) == (400, "InvalidRequestContent", "properties.powerState")
        assert f"already {value}" in err.message
    # a failed hibernation (pending, Failed after the admin update) is retried by the same request
    retry = make(F, ProvisioningState.UPDATING, power_state="Hibernating", requested_power_state="Hibernating")
    assert patch(retry, "Hibernating") is not None
    # a resume interrupted before its start step: Running again is accepted
    pending = make(F, ProvisioningState.UPDATING, power_state="Hibernating", requested_power_state="Running")
    assert patch(pending, "Running") is not None and pending.properties.power_state == "Hibernating"


@pytest.mark.parametrize(
    ("state", "failed"),
    [
        (ProvisioningState.UPDATING, None),
        (ProvisioningState.ADMIN_UPDATING, None),
        (ProvisioningState.CREATING, None),
        (ProvisioningState.DELETING, None),
        (F, ProvisioningState.CREATING),
        (F, ProvisioningState.DELETING),
        (ProvisioningState.CANCELED, None),
    ],
)
def test_only_a_succeeded_cluster_or_a_failed_update_changes_power(
    state: ProvisioningState, failed: ProvisioningState | None
) -> None:
    err = refused(classic(state, failed), "Hibernating")
    assert (err.status, err.code) == (400, "RequestNotAllowed")
    err = refused(hosted(state, failed), "Hibernating")
    assert (err.status, err.code) == (409, "Conflict")


@pytest.mark.parametrize("value", ["Stopped", "running", "", None, 1, True, ["Running"]])
def test_bad_values(value: Any) -> None:
    for oc in (classic(), hosted()):
        err = refused(oc, value)
        assert (err.status, err.code, err.target) == (400, "InvalidRequestContent", "properties.powerState")


def test_classic_power_and_maintenance_are_separate() -> None:
    oc = classic()
    body = {"properties": {"powerState": "Hibernating", "maintenanceTask": "OperatorUpdate"}}
    with pytest.raises(CloudError) as e:
        clusteradmin.admin_patch(oc, body, CTX)
    assert e.value.code == "InvalidRequestContent" and "combined" in e.value.message
    asleep = classic(power_state="Hibernating")
    with pytest.raises(CloudError) as e:
        clusteradmin.admin_patch(asleep, {"properties": {"maintenanceTask": "Everything"}}, CTX)
    assert (e.value.status, e.value.code) == (400, "RequestNotAllowed")
    assert clusteradmin.admin_patch(classic(), {"properties": {"maintenanceTask": "Everything"}}, CTX)


def test_hosted_power_combines_with_the_other_admin_fields() -> None:
    oc = hosted()
    assert admin.cluster_admin_patch(oc, {"properties": {"powerState": "Hibernating", "pausedUntil": "true"}}, CTX)
    assert (oc.properties.power_state, oc.properties.paused_until) == ("Hibernating", "true")
    both = hosted()
    with pytest.raises(CloudError) as e:
        admin.cluster_admin_patch(both, {"properties": {"powerState": "Off", "featureSet": "Nope"}}, CTX)
    assert e.value.code == "MultipleErrorsOccurred" and len(e.value.details) == 2


def test_the_fields_default_to_running_and_survive_a_round_trip() -> None:
    for hub in (OpenShiftCluster, HcpOpenShiftCluster):
        assert hub().properties.power_state == "Running"
        props = hub.load({"properties": {"powerState": "Hibernating", "requestedPowerState": "Running"}}).dump()
        assert (props["properties"]["powerState"], props["properties"]["requestedPowerState"]) == (
            "Hibernating",
            "Running",
        )
