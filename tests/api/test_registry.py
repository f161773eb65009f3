"""The cluster kind's versions, the catalog, the credential actions and the OpenAPI models."""

from __future__ import annotations

import base64

import pytest

from aro.api.cluster import OpenShiftVersion
from aro.api.errors import CloudError
from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS, OPENSHIFT_VERSIONS
from aro.api.registry import DEFAULT_OPENSHIFT_VERSIONS
from tests.api.fixtures import ADMIN_KUBECONFIG, CTX, KUBEADMIN_PASSWORD, SUB, V2025, cli_body

VERSIONS = {v: OPENSHIFT_CLUSTERS.version(v) for v in OPENSHIFT_CLUSTERS.api_versions}


def test_versions_are_registered() -> None:
    assert set(VERSIONS) == {"2019-12-31-preview", "2025-07-25"}
    for key, version in VERSIONS.items():
        assert version.api_version == key
        assert version.model is not None and version.update_model is not None
    assert set(VERSIONS["2025-07-25"].actions) == {"listcredentials", "listadmincredentials"}
    assert set(VERSIONS["2019-12-31-preview"].actions) == {"credentials"}


def test_catalog_has_one_default_among_enabled_versions() -> None:
    defaults = [v for v in DEFAULT_OPENSHIFT_VERSIONS if v.default]
    assert [v.version for v in defaults] == ["4.18.34"]
    assert all(v.enabled for v in DEFAULT_OPENSHIFT_VERSIONS)


def test_version_to_external() -> None:
    render = OPENSHIFT_VERSIONS.renderer("2025-07-25")
    rid = f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/locations/eastus/openShiftVersions/4.18.34"
    assert render(OpenShiftVersion(version="4.18.34", default=True), rid) == {
        "id": rid,
        "name": "4.18.34",
        "type": OPENSHIFT_VERSIONS.type,
        "properties": {"version": "4.18.34"},
    }


def test_credential_actions() -> None:
    actions = VERSIONS["2025-07-25"].actions
    oc = V2025.put(cli_body(), None, CTX)
    for name in ("listcredentials", "listadmincredentials"):
        with pytest.raises(CloudError) as info:
            actions[name](oc)
        assert (info.value.status, info.value.code) == (400, "RequestNotAllowed")
        assert "not available yet" in info.value.message
    oc.properties.kubeadmin_password = KUBEADMIN_PASSWORD
    oc.properties.admin_kubeconfig = ADMIN_KUBECONFIG
    assert actions["listcredentials"](oc) == {"kubeadminUsername": "kubeadmin", "kubeadminPassword": KUBEADMIN_PASSWORD}
    kubeconfig = actions["listadmincredentials"](oc)["kubeconfig"]
    assert base64.b64decode(kubeconfig).decode() == ADMIN_KUBECONFIG


def test_update_model_is_the_patch_body() -> None:
    model = VERSIONS["2025-07-25"].update_model
    assert model is not None and model.__name__ == "OpenShiftClusterUpdate"
    assert set(model.model_json_schema(by_alias=True)["properties"]) == {"tags", "properties", "identity"}
