"""2025-07-25 create (PUT on a missing cluster): parsing, envelope and static validation, defaults."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS
from aro.api.resource import ProvisioningState
from tests.api.fixtures import (
    CTX,
    DELETE,
    NAME,
    OPERATORS,
    PULL_SECRET,
    RESOURCE_ID,
    SUB,
    V2025,
    Body,
    Change,
    applied,
    both,
    cli_body,
    expect_error,
    msi,
    on_wi,
    props,
    setp,
    subnet,
    wi_body,
)


def udr(apiserver: str = "Private", ingress: str = "Private") -> Callable[[Body], None]:
    return both(
        setp("properties.networkProfile.outboundType", "UserDefinedRouting"),
        setp("properties.apiserverProfile.visibility", apiserver),
        setp("properties.ingressProfiles.0.visibility", ingress),
    )


def tags(n: int) -> dict[str, str]:
    return {f"k{i}": "v" for i in range(n)}


def add_worker(body: Body) -> None:
    props(body)["workerProfiles"].append({**props(body)["workerProfiles"][0], "name": "worker2"})


def add_ingress(body: Body) -> None:
    props(body)["ingressProfiles"].append({"name": "apps2", "visibility": "Public"})


def sp_and_wi(_: Body) -> Body:
    body = wi_body()
    props(body)["servicePrincipalProfile"] = props(cli_body())["servicePrincipalProfile"]
    return body


def without(key: str, base: Callable[[], Body]) -> Change:
    return lambda _: {k: v for k, v in base().items() if k != key}


RC, IP, CIDR = "InvalidRequestContent", "InvalidParameter", "InvalidCIDRRange"
SUB0 = "00000000-0000-0000-0000-000000000000"
DES = f"/subscriptions/{SUB}/resourceGroups/des/providers/Microsoft.Compute/diskEncryptionSets/des1"
CP, NP, MP = "properties.clusterProfile", "properties.networkProfile", "properties.masterProfile"
W0, W = "properties.workerProfiles.0", "properties.workerProfiles['worker']"
OUT = f"{NP}.loadBalancerProfile.managedOutboundIps"
PWIP = "properties.platformWorkloadIdentityProfile"
PWI = f"{PWIP}.platformWorkloadIdentities"
SP = "properties.servicePrincipalProfile"
AP, WPS = "properties.apiserverProfile", "properties.workerProfiles"


def lb(count: int) -> Change:
    return setp(f"{NP}.loadBalancerProfile", {"managedOutboundIps": {"count": count}})


def uai(*names: str) -> dict[str, Any]:
    return {"type": "UserAssigned", "userAssignedIdentities": {msi(n): {} for n in names}}


# (case id, change to the az CLI body, expected code, expected target)
# fmt: off
INVALID: list[tuple[str, Change, str, str | None]] = [
    # body shape and JSON types -> InvalidRequestContent with the JSON path
    ("properties-not-object", setp("properties", "x"), RC, "properties"),
    ("count-string", setp(f"{W0}.count", "three"), RC, "properties.workerProfiles[0].count"),
    ("count-bool", setp(f"{W0}.count", True), RC, "properties.workerProfiles[0].count"),
    ("count-float", setp(f"{W0}.count", 3.0), RC, "properties.workerProfiles[0].count"),
    ("disk-string", setp(f"{W0}.diskSizeGB", "128"), RC, "properties.workerProfiles[0].diskSizeGB"),
    ("tags-list", setp("tags", ["a"]), RC, "tags"),
    ("tag-value-int", setp("tags", {"env": 1}), RC, "tags.env"),
    ("tag-value-int-odd-key", setp("tags", {"my-key": 1}), RC, "tags['my-key']"),
    ("workers-not-list", setp(WPS, {"name": "worker"}), RC, WPS),
    # the cluster's enums parse any string; the field rules refuse an unknown one (ARO-RP: InvalidParameter)
    ("visibility-enum", setp("properties.apiserverProfile.visibility", "public"), IP,
     "properties.apiserverProfile.visibility"),
    ("ingress-visibility-enum", setp("properties.ingressProfiles.0.visibility", "Internal"), IP,
     "properties.ingressProfiles['default'].visibility"),
    ("outbound-enum", setp(f"{NP}.outboundType", "Internet"), IP, f"{NP}.outboundType"),
    ("fips-enum", setp(f"{CP}.fipsValidatedModules", "Yes"), IP, f"{CP}.fipsValidatedModules"),
    ("nsg-enum-string", setp(f"{NP}.preconfiguredNSG", "Yes"), IP, f"{NP}.preconfiguredNSG"),
    ("provisioning-state-unknown", setp("properties.provisioningState", "Bogus"), IP, "properties.provisioningState"),
    ("nsg-enum", setp(f"{NP}.preconfiguredNSG", True), RC, f"{NP}.preconfiguredNSG"),
    ("location-int", setp("location", 1), RC, "location"),
    ("identity-type-enum", setp("identity", {"type": "Bogus"}), RC, "identity.type"),
    # ARM envelope
    ("id-mismatch", setp("id", RESOURCE_ID + "x"), "MismatchingResourceID", "id"),
    ("id-not-string", setp("id", 5), "MismatchingResourceID", "id"),
    ("name-mismatch", setp("name", "other"), "MismatchingResourceName", "name"),
    ("type-mismatch", setp("type", "Microsoft.Compute/virtualMachines"), "MismatchingResourceType", "type"),
    ("location-missing", setp("location", DELETE), IP, "location"),
    ("location-other", setp("location", "westus"), IP, "location"),
    # tags
    ("tags-51", setp("tags", tags(51)), IP, "tags"),
    ("tag-key-slash", setp("tags", {"a/b": "v"}), IP, "tags"),
    ("tag-key-percent", setp("tags", {"a%b": "v"}), IP, "tags"),
    ("tag-key-control", setp("tags", {"a\x01": "v"}), IP, "tags"),
    ("tag-key-empty", setp("tags", {"": "v"}), IP, "tags"),
    ("tag-key-513", setp("tags", {"k" * 513: "v"}), IP, "tags"),
    ("tag-value-257", setp("tags", {"k": "v" * 257}), IP, "tags"),
    # required profiles, one worker named "worker", one ingress named "default"
    ("properties-missing", setp("properties", DELETE), IP, "properties"),
    ("cluster-profile-missing", setp(CP, DELETE), IP, CP),
    ("network-profile-missing", setp(NP, DELETE), IP, NP),
    ("master-profile-missing", setp(MP, DELETE), IP, MP),
    ("apiserver-profile-missing", setp(AP, DELETE), IP, AP),
    ("workers-missing", setp("properties.workerProfiles", DELETE), IP, "properties.workerProfiles"),
    ("workers-two", add_worker, IP, "properties.workerProfiles"),
    ("worker-misnamed", setp(f"{W0}.name", "workers"), IP, "properties.workerProfiles['workers'].name"),
    ("ingress-missing", setp("properties.ingressProfiles", []), IP, "properties.ingressProfiles"),
    ("ingress-misnamed", setp("properties.ingressProfiles.0.name", "apps"), IP,
     "properties.ingressProfiles['apps'].name"),
    ("ingress-two", add_ingress, IP, "properties.ingressProfiles"),
    ("workers-status-set", setp("properties.workerProfilesStatus", [{"name": "w", "count": 1}]), IP,
     "properties.workerProfilesStatus"),
    # workers and master
    ("worker-count-1", setp(f"{W0}.count", 1), IP, f"{W}.count"),
    ("worker-count-51", setp(f"{W0}.count", 51), IP, f"{W}.count"),
    ("worker-count-missing", setp(f"{W0}.count", DELETE), IP, f"{W}.count"),
    ("worker-disk-127", setp(f"{W0}.diskSizeGB", 127), IP, f"{W}.diskSizeGB"),
    ("worker-vmsize-empty", setp(f"{W0}.vmSize", ""), IP, f"{W}.vmSize"),
    ("master-vmsize-missing", setp(f"{MP}.vmSize", DELETE), IP, f"{MP}.vmSize"),
    ("master-subnet-malformed", setp(f"{MP}.subnetId", "subnet-1"), IP, f"{MP}.subnetId"),
    ("master-subnet-other-sub", setp(f"{MP}.subnetId", subnet("master-subnet", sub=SUB0)), IP, f"{MP}.subnetId"),
    ("worker-subnet-other-vnet", setp(f"{W0}.subnetId", subnet("worker-subnet", vnet="other")), IP, f"{W}.subnetId"),
    ("worker-subnet-is-master", setp(f"{W0}.subnetId", subnet("master-subnet")), IP, f"{W}.subnetId"),
    ("master-des-malformed", setp(f"{MP}.diskEncryptionSetId", "des"), IP, f"{MP}.diskEncryptionSetId"),
    ("worker-des-differs", setp(f"{MP}.diskEncryptionSetId", DES), IP, f"{W}.diskEncryptionSetId"),
    # credentials: exactly one of a service principal / workload identities (+ one cluster identity)
    ("no-credentials", setp(SP, DELETE), IP, SP),
    ("sp-client-id-empty", setp(f"{SP}.clientId", ""), IP, f"{SP}.clientId"),
    ("sp-client-secret-missing", setp(f"{SP}.clientSecret", DELETE), IP, f"{SP}.clientSecret"),
    ("sp-and-wi", sp_and_wi, IP, SP),
    ("sp-with-identity", setp("identity", uai("c")), IP, "identity"),
    ("wi-no-identity", without("identity", wi_body), IP, "identity"),
    ("wi-system-assigned", on_wi(setp("identity", {"type": "SystemAssigned"})), IP, "identity"),
    ("wi-two-identities", on_wi(setp("identity", uai("a", "b"))), IP, "identity"),
    ("wi-identity-malformed", on_wi(setp("identity.userAssignedIdentities", {"cluster-msi": {}})), IP,
     "identity.userAssignedIdentities"),
    ("wi-resource-id-malformed", on_wi(setp(f"{PWI}.ingress.resourceId", "x")), IP,
     f"{PWIP}.PlatformWorkloadIdentities[ingress].resourceID"),  # ARO-RP's target
    ("wi-no-identities", on_wi(setp(PWI, {})), IP, PWI),
    ("wi-upgradeable-to", on_wi(setp(f"{PWIP}.upgradeableTo", "4.x")), IP, f"{PWIP}.UpgradeableTo[4.x]"),
    # network
    ("outbound-ips-0", lb(0), IP, f"{OUT}.count"),
    ("outbound-ips-21", lb(21), IP, f"{OUT}.count"),
    ("udr-public-apiserver", udr(apiserver="Public"), IP, f"{NP}.outboundType"),
    ("udr-public-ingress", udr(ingress="Public"), IP, f"{NP}.outboundType"),
    ("udr-outbound-ips", both(udr(), lb(2)), IP, f"{NP}.loadBalancerProfile"),
    ("apiserver-visibility-missing", setp("properties.apiserverProfile", {}), IP,
     "properties.apiserverProfile.visibility"),
    ("pod-cidr-garbage", setp(f"{NP}.podCidr", "10.128.0.0/99"), IP, f"{NP}.podCidr"),
    ("pod-cidr-missing", setp(f"{NP}.podCidr", DELETE), IP, f"{NP}.podCidr"),
    ("pod-cidr-ipv6", setp(f"{NP}.podCidr", "fd00::/48"), IP, f"{NP}.podCidr"),
    ("pod-cidr-unaligned", setp(f"{NP}.podCidr", "10.128.0.1/14"), "InvalidNetworkAddress", f"{NP}.podCidr"),
    ("pod-cidr-19", setp(f"{NP}.podCidr", "10.128.0.0/19"), IP, f"{NP}.podCidr"),
    ("service-cidr-23", setp(f"{NP}.serviceCidr", "172.30.0.0/23"), IP, f"{NP}.serviceCidr"),
    ("pod-cidr-cgnat", setp(f"{NP}.podCidr", "100.64.0.0/16"), CIDR, NP),
    ("pod-cidr-ovn", setp(f"{NP}.podCidr", "100.88.0.0/14"), CIDR, NP),
    ("service-cidr-imds", setp(f"{NP}.serviceCidr", "169.254.0.0/16"), CIDR, NP),
    ("cidrs-overlap", setp(f"{NP}.serviceCidr", "10.130.0.0/16"), CIDR, f"{NP}.serviceCidr"),
    # cluster profile
    ("rg-other-subscription", setp(f"{CP}.resourceGroupId", f"/subscriptions/{SUB0}/resourceGroups/x"), IP,
     f"{CP}.resourceGroupId"),
    ("rg-is-cluster-rg", setp(f"{CP}.resourceGroupId", f"/subscriptions/{SUB}/resourceGroups/MYRG"), IP,
     f"{CP}.resourceGroupId"),
    ("rg-malformed", setp(f"{CP}.resourceGroupId", "aro-x"), IP, f"{CP}.resourceGroupId"),
    ("version-unknown", setp(f"{CP}.version", "4.99.1"), IP, f"{CP}.version"),
    ("pull-secret-not-json", setp(f"{CP}.pullSecret", "hunter2"), IP, f"{CP}.pullSecret"),
    ("pull-secret-json-list", setp(f"{CP}.pullSecret", "[]"), IP, f"{CP}.pullSecret"),
    ("domain-invalid", setp(f"{CP}.domain", "Bad_Domain"), IP, f"{CP}.domain"),
]

# (case id, change) that must be accepted: each pins the other side of a rule above.
VALID: list[tuple[str, Change]] = [
    ("cli-body", lambda b: None),
    ("workload-identity", lambda b: wi_body()),
    ("unknown-fields-ignored", both(setp("foo", 1), setp("properties.bar", {"x": 1}), setp(f"{MP}.zone", 3))),
    ("id-name-type-other-case", both(setp("id", RESOURCE_ID.upper()), setp("name", NAME.lower()),
                                     setp("type", "microsoft.redhatopenshift/OPENSHIFTCLUSTERS"))),
    ("location-spaces-case", setp("location", "East US")),
    ("tags-50", setp("tags", tags(50))),
    ("tag-key-512-value-256", setp("tags", {"k" * 512: "v" * 256})),
    ("tags-null", setp("tags", None)),
    ("worker-count-2", setp(f"{W0}.count", 2)),
    ("worker-count-50", setp(f"{W0}.count", 50)),
    ("outbound-ips-20", lb(20)),
    ("udr-private", udr()),
    ("pod-18-service-22", both(setp(f"{NP}.podCidr", "10.128.0.0/18"),
                               setp(f"{NP}.serviceCidr", "172.30.0.0/22"))),
    ("pull-secret-empty", setp(f"{CP}.pullSecret", "")),
    ("version-known", setp(f"{CP}.version", "4.17.27")),
    ("rg-other-case", setp(f"{CP}.resourceGroupId", f"/SUBSCRIPTIONS/{SUB.upper()}/resourcegroups/aro-x")),
    ("des-same", both(setp(f"{MP}.diskEncryptionSetId", DES),
                      setp(f"{W0}.diskEncryptionSetId", DES.lower()))),
    ("provisioning-state-ignored", setp("properties.provisioningState", "Deleting")),
    ("read-only-ignored", both(setp("systemData", "x"), setp("properties.consoleProfile", {"url": 5}),
                               setp("properties.apiserverProfile.url", "https://x"))),
    ("nulls-are-unset", setp(f"{MP}.diskEncryptionSetId", None)),
]
# fmt: on


@pytest.mark.parametrize(("change", "code", "target"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_create(change: Change, code: str, target: str | None) -> None:
    expect_error(lambda: V2025.put(applied(change), None, CTX), code, target)


@pytest.mark.parametrize("body", [None, [], "x", 3])
def test_body_must_be_an_object(body: Any) -> None:
    expect_error(lambda: V2025.put(body, None, CTX), RC, None)


@pytest.mark.parametrize("change", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_create(change: Change) -> None:
    oc = V2025.put(applied(change), None, CTX)
    assert oc.id == RESOURCE_ID and oc.name == NAME


def test_create_from_cli_body_fills_defaults_and_keeps_request() -> None:
    body = cli_body()
    snapshot = cli_body()
    oc = V2025.put(body, None, CTX)
    assert body == snapshot, "put() must not mutate the body"
    p = oc.properties
    assert (oc.id, oc.name, oc.type, oc.location) == (
        RESOURCE_ID,
        NAME,
        "Microsoft.RedHatOpenShift/openShiftClusters",
        "eastus",
    )
    assert oc.tags == {"env": "test"}
    assert p.cluster_profile.version == CTX.default_version
    assert p.cluster_profile.pull_secret == PULL_SECRET
    assert p.cluster_profile.domain == "k2x7mq9a"
    assert p.network_profile.outbound_type == "Loadbalancer"
    assert p.network_profile.load_balancer_profile is not None
    assert p.network_profile.load_balancer_profile.managed_outbound_ips is not None
    assert p.network_profile.load_balancer_profile.managed_outbound_ips.count == 1
    assert p.service_principal_profile is not None
    assert p.service_principal_profile.client_secret == props(snapshot)["servicePrincipalProfile"]["clientSecret"]
    assert [(w.name, w.count, w.disk_size_gb) for w in p.worker_profiles] == [("worker", 3, 128)]
    assert p.provisioning_state == ProvisioningState.SUCCEEDED  # the frontend sets Creating


def test_create_takes_id_and_name_from_the_url() -> None:
    body = cli_body() | {"id": RESOURCE_ID.upper(), "name": NAME.upper()}
    oc = V2025.put(body, None, CTX)
    assert (oc.id, oc.name) == (RESOURCE_ID, NAME)


def test_create_normalises_location() -> None:
    assert V2025.put(cli_body() | {"location": "East US"}, None, CTX).location == "eastus"


def test_workload_identity_create_maps_identities() -> None:
    oc = V2025.put(wi_body(), None, CTX)
    assert oc.identity is not None and oc.identity.type == "UserAssigned"
    assert list(oc.identity.user_assigned_identities) == [msi("cluster")]
    pwi = oc.properties.platform_workload_identity_profile
    assert pwi is not None
    assert {k: v.resource_id for k, v in pwi.platform_workload_identities.items()} == {op: msi(op) for op in OPERATORS}
    assert oc.properties.service_principal_profile is None


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("myCluster", True),
        ("a", True),
        ("x" * 90, True),
        ("with.dots_and-(parens)", True),
        ("bad.", False),  # ends in '.'
        ("x" * 91, False),
        ("bad name", False),
        ("bad\n", False),
        ("\u212aelvin", False),  # KELVIN SIGN lower-cases to ASCII 'k': refused, not aliased
        ("", False),
    ],
)
def test_cluster_name_rule(name: str, valid: bool) -> None:
    """The kind's one name rule, which the frontend (400 InvalidResourceName on PUT) and preflight
    (400 InvalidParameter, target ``name``) apply to the name in the URL."""
    assert OPENSHIFT_CLUSTERS.names.valid(name) is valid


def test_version_check_skipped_without_catalog() -> None:
    ctx = dataclasses.replace(CTX, versions=(), default_version="")
    body = cli_body()
    props(body)["clusterProfile"]["version"] = "4.99.1"
    assert V2025.put(body, None, ctx).properties.cluster_profile.version == "4.99.1"


def test_type_error_message_names_the_path() -> None:
    body = cli_body()
    props(body)["workerProfiles"][0]["count"] = "three"
    err = expect_error(
        lambda: V2025.put(body, None, CTX), "InvalidRequestContent", "properties.workerProfiles[0].count"
    )
    assert "properties.workerProfiles[0].count" in err.message and "integer" in err.message


def test_pull_secret_error_does_not_echo_the_secret() -> None:
    body = cli_body()
    props(body)["clusterProfile"]["pullSecret"] = "hunter2-secret"
    err = expect_error(lambda: V2025.put(body, None, CTX), "InvalidParameter", "properties.clusterProfile.pullSecret")
    assert "hunter2" not in err.message
