"""Node objects derived from Azure compute, and what the simulator reads out of a machine's ``customData``.

Two ``customData`` contracts (both base64 of a JSON document, as Azure's ``osProfile.customData`` is):

- a classic cluster's master VM (``properties.osProfile.customData``) carries an Ignition config whose file
  ``/etc/kubernetes/static-pod-resources/configmaps/client-ca/ca-bundle.crt`` (``contents.source`` a
  ``data:`` URL, ``data:,<url-encoded PEM>`` or ``data:;base64,<base64>``) is the API server's client CA
  bundle;
- a VM scale set instance (the scale set's ``properties.virtualMachineProfile.osProfile.customData`` when
  the instance was created) may carry ``{"node": {"labels": {...}, "taints": [{"key", "value", "effect"}],
  "kubeletVersion": "v1.33.5"}}``: the labels and taints of the node it registers as, and its kubelet.

A VM becomes a node named after the VM (role ``master`` if its name has ``-master-``, else ``worker``). A
scale set instance becomes a node named like its Azure computer name: the scale set's
``osProfile.computerNamePrefix`` (else the scale set's name), lower-cased and reduced to DNS-1123, plus the
instance id in base 36, zero-padded to 6 (``workers`` instance 37 -> ``workers000011``), as AKS nodes are
named (``aks-pool-12345678-vmss000000``). Role ``worker`` unless the labels name a role.

A node is Ready while its machine runs. A stopped, deallocated or still starting machine (``_power``) keeps
its node, NotReady as Kubernetes shows a node whose kubelet went silent: condition ``Ready`` ``Unknown``
(reason ``NodeStatusUnknown``, "Kubelet stopped posting node status."), the ``unreachable`` taints and,
for a machine stopped or deallocated, the cloud provider's ``shutdown`` taint.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from typing import Any
from urllib.parse import unquote

from ._kuberesources import iso_seconds

Object = dict[str, Any]
SERVING_CERT_PATH = "/etc/kubernetes/static-pod-resources/secrets/serving-cert/tls.crt"
SERVING_KEY_PATH = "/etc/kubernetes/static-pod-resources/secrets/serving-cert/tls.key"
CLIENT_CA_PATH = "/etc/kubernetes/static-pod-resources/configmaps/client-ca/ca-bundle.crt"
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _decode_custom_data(custom_data: Any) -> Any:
    if not isinstance(custom_data, str) or not custom_data:
        return None
    try:
        return json.loads(base64.b64decode(custom_data, validate=True))
    except (binascii.Error, ValueError):
        return None


def _data_url(source: str) -> str | None:
    if not source.startswith("data:"):
        return None
    header, sep, payload = source[5:].partition(",")
    if not sep:
        return None
    if header.endswith(";base64"):
        try:
            return base64.b64decode(payload).decode()
        except (binascii.Error, ValueError):
            return None
    return unquote(payload)


def _ignition_file(custom_data: Any, path: str) -> str | None:
    doc = _decode_custom_data(custom_data)
    files = ((doc or {}).get("storage") or {}).get("files") if isinstance(doc, dict) else None
    for f in files if isinstance(files, list) else []:
        if isinstance(f, dict) and f.get("path") == path:
            source = (f.get("contents") or {}).get("source")
            return _data_url(source) if isinstance(source, str) else None
    return None


def client_ca_bundle(custom_data: Any) -> str | None:
    """The client CA bundle (PEM) an Ignition ``customData`` installs, if any."""
    return _ignition_file(custom_data, CLIENT_CA_PATH)


def serving_pair(custom_data: Any) -> tuple[str, str] | None:
    """The API server's serving certificate and key (PEM) an Ignition ``customData`` installs, if any."""
    cert, key = _ignition_file(custom_data, SERVING_CERT_PATH), _ignition_file(custom_data, SERVING_KEY_PATH)
    return (cert, key) if cert and key else None


def node_spec(custom_data: Any) -> Object:
    """The ``node`` section of a scale set instance's ``customData`` (empty when absent or malformed)."""
    doc = _decode_custom_data(custom_data)
    node = doc.get("node") if isinstance(doc, dict) else None
    return node if isinstance(node, dict) else {}


def base36(n: int, width: int = 6) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out.rjust(width, "0")


def computer_name(prefix: str, instance_id: int) -> str:
    cleaned = re.sub(r"[^a-z0-9.-]+", "-", prefix.lower()).strip("-.") or "vmss"
    return cleaned[: 253 - 6] + base36(instance_id)


RUNNING = "running"
_SHUTDOWN = ("stopped", "deallocated", "stopping", "deallocating")


def _ready_condition(power: str, created: float, changed: float | None) -> Object:
    ts = iso_seconds(changed if changed is not None else created)
    if power == RUNNING:
        return {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastTransitionTime": ts,
            "lastHeartbeatTime": ts,
        }
    return {
        "type": "Ready",
        "status": "Unknown",
        "reason": "NodeStatusUnknown",
        "message": "Kubelet stopped posting node status.",
        "lastTransitionTime": ts,
        "lastHeartbeatTime": ts,
    }


def _power_taints(power: str, changed: float | None) -> list[Object]:
    if power == RUNNING:
        return []
    added = iso_seconds(changed) if changed is not None else None
    taints: list[Object] = [
        {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
    ]
    if power in _SHUTDOWN:
        taints.append({"key": "node.cloudprovider.kubernetes.io/shutdown", "effect": "NoSchedule"})
    if added is not None:
        for t in taints:
            t["timeAdded"] = added
    return taints


def _node(
    name: str,
    uid_seed: str,
    provider_id: str,
    created: float,
    labels: dict[str, str],
    kubelet: str,
    taints: list[Object],
    power: str = RUNNING,
    power_changed: float | None = None,
) -> Object:
    ts = iso_seconds(created)
    spec: Object = {"providerID": provider_id}
    taints = [*taints, *_power_taints(power, power_changed)]
    if taints:
        spec["taints"] = taints
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, uid_seed.lower())),
            "resourceVersion": "1",
            "labels": labels,
            "creationTimestamp": ts,
        },
        "spec": spec,
        "status": {
            "conditions": [_ready_condition(power, created, power_changed)],
            "addresses": [{"type": "Hostname", "address": name}],
            "nodeInfo": {
                "kubeletVersion": kubelet,
                "operatingSystem": "linux",
                "architecture": "amd64",
                "osImage": "Red Hat Enterprise Linux CoreOS",
                "containerRuntimeVersion": "cri-o://1.30.0",
                "kernelVersion": "5.14.0",
            },
        },
    }


def vm_node(vm: Object, kubelet: str) -> Object:
    """A classic cluster's node for one VM of its resource group (``vm`` has the store's ``created``)."""
    role = "master" if "-master-" in vm["name"].lower() else "worker"
    labels = {
        "kubernetes.io/hostname": vm["name"],
        "kubernetes.io/os": "linux",
        f"node-role.kubernetes.io/{role}": "",
        "topology.kubernetes.io/region": str(vm.get("location", "")),
    }
    size = ((vm.get("properties") or {}).get("hardwareProfile") or {}).get("vmSize")
    if size:
        labels["node.kubernetes.io/instance-type"] = size
    return _node(
        vm["name"],
        vm["id"],
        "azure://" + vm["id"],
        vm["created"],
        labels,
        kubelet,
        [],
        str(vm.get("powerState") or RUNNING),
        vm.get("powerChanged"),
    )


def _taints(raw: Any) -> list[Object]:
    out = []
    for t in raw if isinstance(raw, list) else []:
        if (
            isinstance(t, dict)
            and isinstance(t.get("key"), str)
            and t.get("effect")
            in (
                "NoSchedule",
                "PreferNoSchedule",
                "NoExecute",
            )
        ):
            taint: Object = {"key": t["key"], "effect": t["effect"]}
            if isinstance(t.get("value"), str) and t["value"]:
                taint["value"] = t["value"]
            out.append(taint)
    return out


def instance_node(instance: Object, kubelet_default: str) -> Object:
    """A hosted cluster's node for one scale set instance (``_vmss.Instance.as_dict()``)."""
    spec = node_spec(instance["customData"])
    name = instance["computerName"]
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/region": instance["location"],
        "node.kubernetes.io/instance-type": instance["vmSize"],
    }
    extra = spec.get("labels")
    if isinstance(extra, dict):
        labels.update({str(k): str(v) for k, v in extra.items()})
    if not any(k.startswith("node-role.kubernetes.io/") for k in labels):
        labels["node-role.kubernetes.io/worker"] = ""
    kubelet = spec.get("kubeletVersion")
    kubelet = kubelet if isinstance(kubelet, str) and kubelet else kubelet_default
    return _node(
        name,
        instance["id"],
        "azure://" + instance["id"],
        instance["created"],
        labels,
        kubelet,
        _taints(spec.get("taints")),
        str(instance.get("powerState") or RUNNING),
        instance.get("powerChanged"),
    )
