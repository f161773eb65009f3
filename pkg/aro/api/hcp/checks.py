"""Value checks the hosted-cluster rules share: ARM resource ids, IPv4 CIDRs, Kubernetes names and label
values, image registries, PEM bundles. Each returns what is wrong (a reason) or None."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from cryptography import x509

# \Z, not $: "$" also matches before a trailing newline. No whitespace inside ARM id segments.
_SEG = r"[^/\s]+"
_ARM_ID = re.compile(
    rf"^/subscriptions/(?P<sub>{_SEG})/resourceGroups/(?P<rg>{_SEG})/providers/(?P<ns>{_SEG})"
    rf"/(?P<rest>{_SEG}(?:/{_SEG})*)\Z",
    re.I,
)
RESOURCE_GROUP_NAME = re.compile(r"^[\w\-.()]{0,89}[\w\-()]\Z")
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?\Z")  # RFC 1035
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = re.compile(rf"^{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*\Z")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
DISK_ENCRYPTION_SET_NAME = re.compile(r"^[a-zA-Z0-9_-]+\Z")
MAX_DISK_ENCRYPTION_SET_NAME = 80

# OpenShift's own patterns for image digest mirror sources and mirrors.
_HOST_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_REPO_PATH = r"(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?"
MIRROR_SOURCE = re.compile(
    rf"^\*(?:\.{_HOST_PART})+\Z|^({_HOST_PART}(?:(?:\.{_HOST_PART})+)?(?::[0-9]+)?){_REPO_PATH}\Z"
)
MIRROR = re.compile(rf"^({_HOST_PART}(?:(?:\.{_HOST_PART})+)?(?::[0-9]+)?){_REPO_PATH}\Z")

SUBNET = "Microsoft.Network/virtualNetworks/subnets"
NETWORK_SECURITY_GROUP = "Microsoft.Network/networkSecurityGroups"
USER_ASSIGNED_IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
DISK_ENCRYPTION_SET = "Microsoft.Compute/diskEncryptionSets"


@dataclass(frozen=True)
class ResourceId:
    subscription: str
    resource_group: str
    type: str  # "Microsoft.Network/virtualNetworks/subnets"
    names: tuple[str, ...]  # ("vnet", "subnet")

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def parent(self) -> str:
        """The id of the parent resource (a subnet's VNet), lower-cased for comparison."""
        ns, *types = self.type.split("/")
        segs = "".join(f"/{t}/{n}" for t, n in zip(types[:-1], self.names[:-1], strict=True))
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/{ns}{segs}".lower()


def parse_resource_id(value: str) -> ResourceId | None:
    m = _ARM_ID.match(value)
    if not m:
        return None
    parts = m["rest"].split("/")
    if len(parts) % 2:
        return None
    types, names = parts[0::2], parts[1::2]
    return ResourceId(m["sub"], m["rg"], "/".join([m["ns"], *types]), tuple(names))


def resource_id_error(
    value: str, resource_type: str, subscription: str | None = None
) -> tuple[ResourceId | None, str | None]:
    """``value`` parsed, or why it is not an id of ``resource_type`` (in ``subscription``, if given)."""
    rid = parse_resource_id(value)
    if rid is None:
        return None, "not a valid Azure resource ID"
    if rid.type.casefold() != resource_type.casefold():
        return None, f"resource ID must reference an instance of type '{resource_type}'"
    if subscription is not None and rid.subscription.casefold() != subscription.casefold():
        return rid, f"must be in the same Azure subscription '{subscription}'"
    return rid, None


def ipv4_cidr_error(value: str) -> str | None:
    """An IPv4 network in CIDR notation, aligned (``10.0.0.1/16`` is refused)."""
    if "/" not in value:
        return "not an IPv4 CIDR"
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "not an IPv4 CIDR"
    if not isinstance(net, ipaddress.IPv4Network):
        return "not IPv4"
    if str(net.network_address) != value.split("/", 1)[0]:
        return "not an IPv4 CIDR: the address must be the network address"
    return None


def ipv4_error(value: str) -> str | None:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return "not an IP address"
    return None if isinstance(ip, ipaddress.IPv4Address) else "not IPv4"


def cidr(value: str) -> ipaddress.IPv4Network | None:
    return ipaddress.IPv4Network(value) if ipv4_cidr_error(value) is None else None


def qualified_name_error(value: str) -> str | None:
    """A Kubernetes qualified name: ``[prefix/]name``, the prefix a DNS-1123 subdomain (<= 253), the name
    <= 63 alphanumerics, '-', '_', '.' starting and ending alphanumeric."""
    prefix, _, name = value.rpartition("/")
    if "/" in value and not prefix:
        return "the prefix part must be non-empty"
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return "the prefix part must be a lowercase DNS-1123 subdomain"
    if not name:
        return "the name part must be non-empty"
    if len(name) > 63:
        return "the name part must be no more than 63 characters"
    if not _QUALIFIED_NAME.match(name):
        return (
            "the name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character"
        )
    return None


def label_value_error(value: str) -> str | None:
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _LABEL_VALUE.match(value):
        return (
            "must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
            "an alphanumeric character"
        )
    return None


def image_registry_error(value: str) -> str | None:
    """host[:port][/namespace...][/repo] or [*.]host: lowercase, no scheme, no whitespace, <= 255."""
    if not value:
        return "must not be empty"
    if len(value) > 255:
        return "must be no more than 255 characters"
    if value.startswith(("http://", "https://")):
        return "cannot contain protocol prefix (http/https)"
    if value != value.lower():
        return "must be lowercase"
    if any(c.isspace() for c in value):
        return "cannot contain whitespace characters"
    host = value.split("/", 1)[0].removeprefix("*.")
    if ":" in host:
        host, _, port = host.rpartition(":")
        if not port.isdigit():
            return "invalid host:port format"
    if not host:
        return "the host must not be empty"
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    if len(host) > 253 or not DNS1123_SUBDOMAIN.match(host):
        return "the host must be a valid DNS-1123 subdomain"
    return None


def pem_bundle_error(value: str) -> str | None:
    try:
        certs = x509.load_pem_x509_certificates(value.encode())
    except ValueError:
        return "not a valid PEM certificate bundle"
    return None if certs else "not a valid PEM certificate bundle"
