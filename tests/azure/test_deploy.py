"""deploy/: the ARM template creates exactly the containers the store expects, and the production
config example loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aro.database.containers import ALL
from aro.database.cosmos import PARTITION_KEY_PATH, UNIQUE_KEY_PATH, indexing_policy
from aro.env.config import CloudMode, DatabaseMode, Mode, load

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CONTAINERS = "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers"


def template() -> dict[str, Any]:
    return dict(json.loads((DEPLOY / "aro.json").read_text()))


def resources(kind: str) -> list[dict[str, Any]]:
    return [r for r in template()["resources"] if r["type"] == kind]


def test_template_containers_match_the_store() -> None:
    declared = {r["properties"]["resource"]["id"]: r["properties"]["resource"] for r in resources(CONTAINERS)}
    assert set(declared) == {spec.name for spec in ALL}, "one container per ContainerSpec, no more"
    for spec in ALL:
        res = declared[spec.name]
        assert res["partitionKey"] == {"paths": [PARTITION_KEY_PATH], "kind": "Hash"}, spec.name
        assert res["uniqueKeyPolicy"] == {"uniqueKeys": [{"paths": [UNIQUE_KEY_PATH]}]}, spec.name
        # as the Cosmos store creates them: TTL on everywhere, the spec's default or none (-1); the composite
        # indexes its ordered queries need
        assert res["defaultTtl"] == (spec.default_ttl or -1), spec.name
        assert res.get("indexingPolicy") == indexing_policy(spec), spec.name
    assert declared["asyncOperations"]["defaultTtl"] == 7 * 24 * 3600
    assert len(declared["ledgerSubscriptions"]["indexingPolicy"]["compositeIndexes"]) == 21


def test_template_database_account_and_graph_storage() -> None:
    t = template()
    assert t["parameters"]["databaseName"]["defaultValue"] == "aro"
    (account,) = resources("Microsoft.DocumentDB/databaseAccounts")
    assert account["kind"] == "GlobalDocumentDB", "the SQL API"
    (db,) = resources("Microsoft.DocumentDB/databaseAccounts/sqlDatabases")
    assert db["properties"]["resource"]["id"] == "[parameters('databaseName')]"
    for c in resources(CONTAINERS):
        assert c["name"].startswith(
            "[format('{0}/{1}/{2}', parameters('databaseAccountName'), parameters('databaseName')"
        )
    (storage,) = resources("Microsoft.Storage/storageAccounts")
    assert storage["properties"]["allowBlobPublicAccess"] is False
    (graphs,) = resources("Microsoft.Storage/storageAccounts/blobServices/containers")
    assert graphs["properties"]["publicAccess"] == "None"
    assert t["parameters"]["graphContainerName"]["defaultValue"] == "aro"
    assert {"cosmosEndpoint", "blobAccountUrl"} <= set(t["outputs"])


def test_production_config_example_loads() -> None:
    c = load(DEPLOY / "aro.production.yaml.example", environ={})
    assert c.mode is Mode.PRODUCTION and c.frontend.host == "0.0.0.0"
    assert c.frontend.tls.ca_file and c.frontend.auth.arm_client_subject and c.frontend.auth.admin_client_subject
    assert c.database.mode is DatabaseMode.COSMOS and c.database.cosmos.endpoint
    assert c.cloud.mode is CloudMode.AZURE and c.cloud.azure.tenant_id and c.cloud.azure.client_id
    assert c.cloud.blob.configured and c.cloud.blob.container == "aro"
    assert c.secrets.key_file
