"""Validation and normalization of Microsoft.Network bodies (virtual networks with their subnets, network
security groups, route tables), as the network resource provider checks them. Pure: no state, no I/O --
``_network`` adds what needs the store (references, resources in use).

Errors (400 unless said), codes and message forms as Azure answers them:

| code | when |
|---|---|
| ``InvalidResourceName`` | a name Azure refuses (1..80 word characters, ``.``, ``-``, ``_``; a virtual
  network's 2..64) |
| ``LocationRequired`` | no ``location`` |
| ``InvalidAddressPrefixFormat`` | a prefix that is not CIDR (``10.0.0.0/33``, ``x``) |
| ``InvalidCIDRNotation`` | host bits set (``10.0.0.1/23``); the message names the network it should be |
| ``AddressPrefixStringCannotBeNullOrEmpty`` | an empty prefix |
| ``NoAddressPrefixOrPoolProvided`` | a subnet without ``addressPrefix``/``addressPrefixes`` |
| ``NetcfgSubnetRangeOutsideVnet`` | a subnet prefix inside none of the address space's prefixes |
| ``NetcfgSubnetRangesOverlap`` | two subnets' prefixes overlap (the later one is named) |
| ``DuplicateResourceName`` | two subnets (rules, routes) with the same name |
| ``InvalidRequestFormat`` | a value of the wrong JSON type, or past a simulator bound (below) |

Deliberate difference: the code for a virtual network without address prefixes is ``InvalidRequestFormat``
(Azure's message is reproduced; its code was not confirmed). Bounds: ``MAX_SUBNETS`` subnets per virtual
network (Azure's limit), ``MAX_PREFIXES`` prefixes per address space or subnet, ``MAX_RULES`` security rules
per group and ``MAX_ROUTES`` routes per table (Azure's limits), ``MAX_TAGS`` tags (ARM's limit).
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from typing import Any

from ._errors import ArmError

MAX_SUBNETS = 3000
MAX_PREFIXES = 100
MAX_RULES = 1000
MAX_ROUTES = 400
MAX_TAGS = 50
MAX_TAG_KEY, MAX_TAG_VALUE = 512, 256
MAX_NAME = 80

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAME = re.compile(r"^[A-Za-z0-9](?:[\w.-]*\w)?$")
_CIDR = re.compile(r"^[0-9A-Fa-f:.]+/\d{1,3}$")
# read-only subnet properties: the RP computes them; a PUT that sends them back (a GET-modify-PUT) is not an error
_SUBNET_READ_ONLY = (
    "provisioningState",
    "ipConfigurations",
    "ipConfigurationProfiles",
    "privateEndpoints",
    "purpose",
    "resourceNavigationLinks",
    "serviceAssociationLinks",
)
_TOP_READ_ONLY = ("provisioningState", "resourceGuid", "subnets", "securityRules", "routes")


def bad(message: str) -> ArmError:
    return ArmError(400, "InvalidRequestFormat", message)


def check_name(name: str, kind: str, min_len: int = 1, max_len: int = MAX_NAME) -> None:
    if not (min_len <= len(name) <= max_len and _NAME.match(name)):
        raise ArmError(
            400,
            "InvalidResourceName",
            f"Resource name {name[:100]} is invalid. The name can be up to {max_len} characters long. It must begin "
            "with a word character, and it must end with a word character or with '_'. The name may contain word "
            "characters or '.', '-', '_'.",
        )


def location(raw: dict[str, Any]) -> str:
    loc = raw.get("location")
    if not isinstance(loc, str) or not loc.strip():
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    if len(loc) > 64:
        raise bad("The location is too long.")
    return loc.replace(" ", "").lower()


def tags(raw: dict[str, Any]) -> dict[str, str]:
    value = raw.get("tags")
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad("'tags' must be an object of strings.")
    if len(value) > MAX_TAGS or any(len(k) > MAX_TAG_KEY or len(v) > MAX_TAG_VALUE for k, v in value.items()):
        raise ArmError(
            400,
            "InvalidTag",
            f"At most {MAX_TAGS} tags, names up to {MAX_TAG_KEY} and values up to {MAX_TAG_VALUE} characters.",
        )
    return {str(k): v for k, v in value.items()}


def _obj(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad(f"'{what}' must be an object.")
    return value


def prefix(text: Any, rid: str) -> Network:
    """One CIDR prefix of resource ``rid``, as the network RP parses it."""
    if text is None or text == "":
        raise ArmError(
            400,
            "AddressPrefixStringCannotBeNullOrEmpty",
            f"Address prefix string for resource {rid} cannot be null or empty.",
        )
    shown = str(text)[:64]
    if not isinstance(text, str) or not _CIDR.match(text):
        raise _format_error(shown, rid)
    try:
        net = ipaddress.ip_network(text, strict=False)
        given = ipaddress.ip_address(text.split("/")[0])
    except ValueError:
        raise _format_error(shown, rid) from None
    if given != net.network_address:
        raise ArmError(
            400,
            "InvalidCIDRNotation",
            f"The address prefix {text} in resource {rid} has an invalid CIDR notation. For the given prefix length, "
            f"the address prefix should be {net}.",
        )
    return net


def _format_error(shown: str, rid: str) -> ArmError:
    return ArmError(
        400,
        "InvalidAddressPrefixFormat",
        f"Address prefix {shown} of resource {rid} is not formatted correctly. It should follow CIDR notation, for "
        "example 10.0.0.0/24.",
    )


def subnet_prefixes(props: dict[str, Any], rid: str, name: str) -> list[Network]:
    """A subnet's prefixes: ``addressPrefix`` or ``addressPrefixes``."""
    single, many = props.get("addressPrefix"), props.get("addressPrefixes")
    if many is not None and (not isinstance(many, list) or len(many) > MAX_PREFIXES):
        raise bad(f"'addressPrefixes' must be a list of at most {MAX_PREFIXES} prefixes.")
    texts = [single] if single not in (None, "") else list(many or [])
    if not texts:
        raise ArmError(
            400, "NoAddressPrefixOrPoolProvided", f"Subnet '{name}' does not have address prefix or pool provided."
        )
    return [prefix(t, rid) for t in texts]


def subnet_properties(raw: Any, rid: str, name: str) -> dict[str, Any]:
    """A subnet's writable properties, normalized (a PUT replaces them all)."""
    props = dict(_obj(raw, "properties"))
    for key in _SUBNET_READ_ONLY:
        props.pop(key, None)
    subnet_prefixes(props, rid, name)  # validates
    for key in ("networkSecurityGroup", "routeTable", "natGateway"):
        ref = props.get(key)
        if ref is None:
            props.pop(key, None)
            continue
        ref_id = _obj(ref, key).get("id")
        if not isinstance(ref_id, str) or not ref_id.startswith("/subscriptions/") or len(ref_id) > 1024:
            raise bad(f"'{key}.id' must be a resource id.")
        props[key] = {"id": ref_id}
    endpoints = props.get("serviceEndpoints")
    if endpoints is not None:
        if not isinstance(endpoints, list) or len(endpoints) > 100:
            raise bad("'serviceEndpoints' must be a list of at most 100 entries.")
        out = []
        for ep in endpoints:
            ep = _obj(ep, "serviceEndpoints[]")
            service, locations = ep.get("service"), ep.get("locations") or ["*"]
            if not isinstance(service, str) or not isinstance(locations, list):
                raise bad("A service endpoint needs a 'service' string (and 'locations', a list).")
            out.append({"service": service, "locations": [str(x) for x in locations]})
        props["serviceEndpoints"] = out
    delegations = props.get("delegations")
    if delegations is not None and (not isinstance(delegations, list) or len(delegations) > 10):
        raise bad("'delegations' must be a list of at most 10 entries.")
    return props


def _named_list(value: Any, what: str, limit: int, parent: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > limit:
        raise bad(f"'{what}' must be a list of at most {limit} entries.")
    out, seen = [], set()
    for item in value:
        item = _obj(item, f"{what}[]")
        name = item.get("name")
        if not isinstance(name, str):
            raise bad(f"Every entry of '{what}' needs a 'name'.")
        check_name(name, what)
        if name.lower() in seen:
            raise ArmError(
                400,
                "DuplicateResourceName",
                f"Resource {parent} has two child resources with the same name ({name}).",
            )
        seen.add(name.lower())
        props = {
            k: v for k, v in _obj(item.get("properties"), f"{what}[].properties").items() if k != "provisioningState"
        }
        out.append({"name": name, "properties": props})
    return out


def virtual_network(rid: str, name: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A virtual network PUT body, validated and normalized to what is stored: ``location``, ``tags`` and the
    writable ``properties`` with ``subnets`` as ``[{"name", "properties"}]`` (an absent list is empty: a PUT
    replaces the subnets, as on Azure)."""
    check_name(name, "virtualNetworks", min_len=2, max_len=64)
    props = dict(_obj(raw.get("properties"), "properties"))
    space = _obj(props.get("addressSpace"), "addressSpace")
    texts = space.get("addressPrefixes")
    if not isinstance(texts, list) or not texts:
        raise bad(
            f"AddressSpace of the virtual network {rid} does not have any address prefixes in addressPrefixes array. "
            "AddressSpace and prefixes must be specified within properties object."
        )
    if len(texts) > MAX_PREFIXES:
        raise bad(f"An address space holds at most {MAX_PREFIXES} prefixes.")
    for t in texts:
        prefix(t, rid)
    subnets = _named_list(props.get("subnets"), "subnets", MAX_SUBNETS, rid)
    for s in subnets:
        s["properties"] = subnet_properties(s["properties"], f"{rid}/subnets/{s['name']}", s["name"])
    for key in _TOP_READ_ONLY:
        props.pop(key, None)
    props["addressSpace"] = {**space, "addressPrefixes": list(texts)}
    props["subnets"] = subnets
    body: dict[str, Any] = {"location": location(raw), "properties": props}
    if raw.get("tags") is not None:
        body["tags"] = tags(raw)
    return body


def geometry(rid: str, name: str, body: dict[str, Any], last: str | None = None) -> None:
    """Every subnet lies inside the address space and no two overlap. ``last``: the subnet being written,
    checked last so that an overlap names it (as Azure names the subnet a request adds)."""
    space = [prefix(t, rid) for t in body["properties"]["addressSpace"]["addressPrefixes"]]
    subnets = sorted(body["properties"]["subnets"], key=lambda s: s["name"].lower() == (last or "").lower())
    taken: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
    for s in subnets:
        srid = f"{rid}/subnets/{s['name']}"
        for net in subnet_prefixes(s["properties"], srid, s["name"]):
            if not any(net.version == v.version and net.subnet_of(v) for v in space):  # type: ignore[arg-type]
                raise ArmError(
                    400,
                    "NetcfgSubnetRangeOutsideVnet",
                    f"Subnet '{s['name']}' is not valid because its IP address range is outside the IP address range "
                    f"of virtual network '{name}'.",
                )
            start, end = int(net.network_address), int(net.broadcast_address)
            spans = taken[net.version]
            i = bisect.bisect_left(spans, (start, end))
            if (i > 0 and spans[i - 1][1] >= start) or (i < len(spans) and spans[i][0] <= end):
                raise ArmError(
                    400,
                    "NetcfgSubnetRangesOverlap",
                    f"Subnet '{s['name']}' is not valid because its IP address range overlaps with that of an "
                    f"existing subnet in virtual network '{name}'.",
                )
            spans.insert(i, (start, end))


def network_security_group(rid: str, name: str, raw: dict[str, Any]) -> dict[str, Any]:
    check_name(name, "networkSecurityGroups")
    props = dict(_obj(raw.get("properties"), "properties"))
    rules = _named_list(props.get("securityRules"), "securityRules", MAX_RULES, rid)
    for key in (*_TOP_READ_ONLY, "defaultSecurityRules", "networkInterfaces", "flowLogs"):
        props.pop(key, None)
    props["securityRules"] = rules
    body: dict[str, Any] = {"location": location(raw), "properties": props}
    if raw.get("tags") is not None:
        body["tags"] = tags(raw)
    return body


def route_table(rid: str, name: str, raw: dict[str, Any]) -> dict[str, Any]:
    check_name(name, "routeTables")
    props = dict(_obj(raw.get("properties"), "properties"))
    routes = _named_list(props.get("routes"), "routes", MAX_ROUTES, rid)
    for r in routes:
        address = r["properties"].get("addressPrefix")
        if isinstance(address, str) and "/" in address:
            prefix(address, f"{rid}/routes/{r['name']}")
    for key in _TOP_READ_ONLY:
        props.pop(key, None)
    props["routes"] = routes
    disable = props.get("disableBgpRoutePropagation", False)
    if not isinstance(disable, bool):
        raise bad("'disableBgpRoutePropagation' must be a boolean.")
    props["disableBgpRoutePropagation"] = disable
    body: dict[str, Any] = {"location": location(raw), "properties": props}
    if raw.get("tags") is not None:
        body["tags"] = tags(raw)
    return body


def planned(rtype: str, rid: str, body: dict[str, Any]) -> None:
    """A template deployment's virtual network, checked when the deployment is submitted (as ARM's
    preflight does): the same validation as a PUT."""
    if rtype.lower() != "microsoft.network/virtualnetworks":
        return
    name = rid.rsplit("/", 1)[1]
    normalized = virtual_network(rid, name, body)
    geometry(rid, name, normalized)
