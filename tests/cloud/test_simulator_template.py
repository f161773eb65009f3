"""The simulator's ARM template subset, evaluated without a server."""

from __future__ import annotations

from typing import Any

import pytest

from aro.cloud.simulator._template import TemplateError, build_resource_id, expand, parent_id

SUB, RG = "sub-1", "rg-1"


def run(template: dict[str, Any], **params: Any) -> tuple[list[Any], dict[str, Any]]:
    return expand(
        template, {k: {"value": v} for k, v in params.items()}, subscription_id=SUB, resource_group=RG,
        location="westeurope",
    )  # fmt: skip


def test_nested_ids_and_parents() -> None:
    rid = build_resource_id(SUB, RG, "Microsoft.Network/dnsZones/A", "zone.com/api")
    assert rid == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/dnsZones/zone.com/A/api"
    assert parent_id(rid) == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/dnsZones/zone.com"
    assert parent_id(build_resource_id(SUB, RG, "Microsoft.Network/dnsZones", "zone.com")) is None
    with pytest.raises(TemplateError, match="incorrect number of segments"):
        build_resource_id(SUB, RG, "Microsoft.Network/dnsZones/A", "api")


def test_expressions() -> None:
    template = {
        "parameters": {"name": {"type": "string"}, "count": {"type": "int", "defaultValue": 3}},
        "variables": {
            "prefix": "[toLower(parameters('name'))]",
            "full": "[concat(variables('prefix'), '-x')]",
        },
        "resources": [
            {
                "type": "Microsoft.Network/dnsZones/A",
                "name": "[format('{0}/{1}', 'zone.com', variables('full'))]",
                "properties": {
                    "loc": "[resourceGroup().location]",
                    "rg": "[resourceGroup().name]",
                    "sub": "[subscription().subscriptionId]",
                    "count": "[parameters('count')]",
                    "literal": "[[not an expression]",
                    "quoted": "[concat('it''s', ' ok')]",
                    "nested": {"list": ["[parameters('name')]", 1]},
                    "id": "[resourceId('Microsoft.Network/dnsZones', 'zone.com')]",
                },
            },
            {"type": "Microsoft.Network/dnsZones", "name": "zone.com", "location": "global"},
        ],
        "outputs": {
            "name": {"type": "string", "value": "[variables('full')]"},
            "n": {"type": "int", "value": 7},
        },
    }
    planned, outputs = run(template, name="ABC")
    assert [p.type for p in planned] == ["Microsoft.Network/dnsZones", "Microsoft.Network/dnsZones/A"]
    record = planned[1]
    assert record.name == "zone.com/abc-x"
    assert record.body["properties"] == {
        "loc": "westeurope",
        "rg": RG,
        "sub": SUB,
        "count": 3,
        "literal": "[not an expression]",
        "quoted": "it's ok",
        "nested": {"list": ["ABC", 1]},
        "id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/dnsZones/zone.com",
    }
    assert "location" not in record.body and planned[0].body["location"] == "global"
    assert outputs == {"name": {"type": "string", "value": "abc-x"}, "n": {"type": "int", "value": 7}}


@pytest.mark.parametrize(
    ("template", "params", "message"),
    [
        ({"parameters": {"a": {"type": "string"}}}, {}, "'a' is not provided"),
        ({}, {"zzz": 1}, "'zzz' are not valid"),
        ({"resources": [{"type": "A/b", "name": "[unknownFn()]"}]}, {}, "'unknownFn' is not supported"),
        ({"resources": [{"type": "A/b", "name": "[parameters('x']"}]}, {}, "is not valid"),
        ({"resources": [{"type": "A/b", "name": "n", "copy": {}}]}, {}, "not supported"),
        (
            {"variables": {"v": "[variables('v')]"}, "outputs": {"o": {"value": "[variables('v')]"}}},
            {},
            "itself",
        ),
    ],
)
def test_invalid_templates(template: dict[str, Any], params: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        run(template, **params)
