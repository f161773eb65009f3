"""The pod and service CIDR rules of a classic cluster, with ARO-RP's codes, targets and messages.

ARO-RP parses a CIDR with Go's ``net.ParseCIDR`` (``address/bits``, digits only after the slash, no zone, no
leading zeros in IPv4 octets) and then checks, in this order: IPv4; on create, no overlap with the ranges
OVN-Kubernetes uses internally (400 ``InvalidCIDRRange``, target ``properties.networkProfile``); at least
``/max_prefix`` (its message calls every CIDR a "vnet CIDR"); the address is the network address (400
``InvalidNetworkAddress``, naming the aligned form).
"""

from __future__ import annotations

import ipaddress

from aro.api.errors import INVALID_CIDR_RANGE, INVALID_NETWORK_ADDRESS, CloudError, invalid_parameter

# ARO-RP's api.JoinCIDRRange.
RESERVED_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("100.64.0.0/16", "169.254.169.0/29", "100.88.0.0/16"))
RESERVED_MESSAGE = (
    "Azure Red Hat OpenShift uses 100.64.0.0/16, 169.254.169.0/29, and 100.88.0.0/16 IP address ranges "
    "internally. Do not include this '{}' IP address range in any other CIDR definitions in your cluster."
)


def parse_cidr(value: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int] | None:
    """``(address, prefix length)`` as Go's ``net.ParseCIDR`` reads ``value``, or None where it fails."""
    address, slash, bits = value.partition("/")
    if not slash or "%" in address or not bits.isascii() or not bits.isdigit():
        return None
    digits = bits.lstrip("0") or "0"  # Go's dtoi takes leading zeros
    if len(digits) > 3:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = int(digits)
    return (ip, prefix) if prefix <= ip.max_prefixlen else None


def check_cidr(
    value: str, field: str, what: str, max_prefix: int, *, parent: str, creating: bool
) -> ipaddress.IPv4Network:
    """``value`` of ``parent.field`` (the ``what`` CIDR: pod or service) as ARO-RP checks it."""
    target = f"{parent}.{field}"
    parsed = parse_cidr(value)
    if parsed is None:
        raise invalid_parameter(
            target, f"The provided {what} CIDR '{value}' is invalid: 'invalid CIDR address: {value}'."
        )
    ip, prefix = parsed
    if not isinstance(ip, ipaddress.IPv4Address):
        raise invalid_parameter(target, f"The provided {what} CIDR '{value}' is invalid: must be IPv4.")
    net = ipaddress.IPv4Network((ip, prefix), strict=False)
    # Create only: clusters moved from SDN to OVN-Kubernetes may keep such a range (as in ARO-RP).
    if creating and any(net.overlaps(r) for r in RESERVED_RANGES):
        raise CloudError(400, INVALID_CIDR_RANGE, RESERVED_MESSAGE.format(value), parent)
    if prefix > max_prefix:
        raise invalid_parameter(
            target, f"The provided vnet CIDR '{value}' is invalid: must be /{max_prefix} or larger."
        )
    if net.network_address != ip:
        raise CloudError(
            400,
            INVALID_NETWORK_ADDRESS,
            f"The provided {what} CIDR '{value}' is invalid, expecting: '{net.network_address}/{prefix}'.",
            target,
        )
    return net
