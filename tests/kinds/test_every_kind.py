"""The ARM behaviours every registered resource kind gets from the framework, tested for each of them
(tests/fixtures/kinds.py describes each kind; the toy kind of tests/fixtures/toy.py is registered here
too): CRUD with async operations, lists with paging, a type's own api-versions, and for child kinds a
missing parent (404), a busy parent (409) and the cascade delete with the parent and the subscription."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aro.api.kind import sort_api_versions
from aro.api.resource import RESOURCE_PROVIDER
from aro.database.containers import ASYNC_OPERATIONS
from tests.fixtures.kinds import FIXTURES, KindFixture, Simulator, fixture_of
from tests.fixtures.store import StoreView
from tests.frontend.helpers import Arm, error_of, location_path, new_sub

ALL = list(FIXTURES.values())
CHILDREN = [f for f in ALL if f.kind.parent is not None]
# Kinds limited to one resource per parent (an external auth) cannot show paging or a two-child cascade;
# their one-per-parent rule has tests of its own (tests/hcp).
MANY = [f for f in ALL if f.per_parent is None]
MANY_CHILDREN = [f for f in CHILDREN if f.per_parent is None]
RG = "kinds-rg"


def ids(fixtures: list[KindFixture]) -> list[str]:
    return [f.id for f in fixtures]


def ancestors(fx: KindFixture) -> list[KindFixture]:
    return [fixture_of(k) for k in fx.kind.chain[:-1]]


def create(arm: Arm, fx: KindFixture, sub: str, *names: str) -> dict[str, Any]:
    """Create the resource ``names`` (ancestors first, when missing) and wait until it Succeeded."""
    for depth, f in enumerate([*ancestors(fx), fx]):
        path = f.path(sub, RG, *names[: depth + 1])
        if f is not fx and arm.get(path, version=f.api_version).status_code == 200:
            continue
        r = arm.put(path, f.body(sub, names[depth]), version=f.api_version)
        assert r.status_code == 201, r.text
        body = arm.wait(path, {"Succeeded"}, version=f.api_version)
    return body


def parents_of(fx: KindFixture, sub: str) -> list[str]:
    """The names of ``fx``'s ancestors in these tests (the first name of each ancestor kind)."""
    return [f.names[0] for f in ancestors(fx)]


@pytest.mark.parametrize("fx", ALL, ids=ids(ALL))
def test_crud_with_async_operations(arm: Arm, fx: KindFixture) -> None:
    sub = new_sub()
    names = [*parents_of(fx, sub), fx.names[0]]
    if names[:-1]:
        create(arm, fixture_of(fx.kind.parent), sub, *names[:-1])
    path = fx.path(sub, RG, *names)
    v = fx.api_version

    r = arm.put(path, fx.body(sub, names[-1]), version=v)
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["provisioningState"] == fx.kind.lifecycle.creating.value
    assert r.json()["id"] == path and r.json()["type"] == fx.kind.type
    assert "location" not in r.headers
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    got = arm.get(path, version=v)
    assert got.status_code == 200 and got.json()["properties"]["provisioningState"] == "Succeeded", got.text
    assert got.headers["etag"]

    r = arm.patch(path, fx.patch, version=v)
    assert r.status_code == fx.kind.patch_status, r.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    assert fx.patched(arm.get(path, version=v).json())

    r = arm.delete(path, version=v)
    assert r.status_code == 202, r.text
    result = r.headers["location"]
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    assert arm.absolute(result).status_code == 204
    assert error_of(arm.get(path, version=v))["code"] == "ResourceNotFound"
    assert arm.delete(path, version=v).status_code == 204


@pytest.mark.parametrize("fx", MANY, ids=ids(MANY))
def test_lists_page_and_hold_only_their_kind(arm: Arm, fx: KindFixture) -> None:
    sub = new_sub()
    parents = parents_of(fx, sub)
    for name in fx.names:
        create(arm, fx, sub, *parents, name)
    for child in (f for f in ALL if f.kind.parent is fx.kind):  # children live in their own containers
        create(arm, child, sub, *parents, fx.names[0], child.names[0])

    first = arm.get(fx.collection(sub, RG, *parents), version=fx.api_version, params={"$top": "2"})
    assert first.status_code == 200, first.text
    assert len(first.json()["value"]) == 2 and first.json()["nextLink"]
    rest = arm.absolute(first.json()["nextLink"])
    assert rest.status_code == 200 and "nextLink" not in rest.json(), rest.text
    listed = first.json()["value"] + rest.json()["value"]
    assert sorted(x["name"] for x in listed) == sorted(fx.names)
    assert {x["type"] for x in listed} == {fx.kind.type}
    if fx.kind.subscription_route is not None:
        everything = arm.get(
            f"/subscriptions/{sub}/providers/{RESOURCE_PROVIDER}/{fx.kind.name}", version=fx.api_version
        )
        assert sorted(x["name"] for x in everything.json()["value"]) == sorted(fx.names)


@pytest.mark.parametrize("fx", ALL, ids=ids(ALL))
def test_api_versions_are_per_type(arm: Arm, fx: KindFixture) -> None:
    sub = new_sub()
    path = fx.path(sub, RG, *parents_of(fx, sub), fx.names[0])
    others = sorted({f.api_version for f in ALL} - set(fx.kind.api_versions))
    assert others, "another kind with other api-versions is registered"
    for version in others:
        err = error_of(arm.get(path, version=version))
        assert err["code"] == "InvalidResourceType", err
        listed = ", ".join(sort_api_versions(fx.kind.api_versions))
        assert err["message"].endswith(f"The supported api-versions are '{listed}'."), err


@pytest.mark.parametrize("fx", CHILDREN, ids=ids(CHILDREN))
def test_a_missing_parent_is_404(arm: Arm, fx: KindFixture) -> None:
    sub = new_sub()
    arm.register(sub)
    names = [*parents_of(fx, sub), fx.names[0]]
    before = arm.rows(sub)
    for method, url, body in (
        ("PUT", fx.path(sub, RG, *names), fx.body(sub, names[-1])),
        ("GET", fx.collection(sub, RG, *names[:-1]), None),
    ):
        r = arm.request(method, url, version=fx.api_version, json=body)
        assert r.status_code == 404 and error_of(r)["code"] == "ParentResourceNotFound", r.text
    assert error_of(arm.get(fx.path(sub, RG, *names), version=fx.api_version))["code"] == "ResourceNotFound"
    assert arm.rows(sub) == before, "a refused request changed the store"


@pytest.mark.parametrize("fx", CHILDREN, ids=ids(CHILDREN))
def test_a_busy_parent_is_409(arm: Arm, simulator: Simulator, fx: KindFixture) -> None:
    parent = fixture_of(fx.kind.parent)
    assert parent.holds is not None, f"{parent.id} needs holds() to test its children"
    sub = new_sub()
    names = [*parents_of(fx, sub), fx.names[0]]
    parent_path = parent.path(sub, RG, *names[:-1])
    creating, deleting = parent.holds(sub, RG, names[-2])

    def refused(word: str) -> None:
        r = arm.put(fx.path(sub, RG, *names), fx.body(sub, names[-1]), version=fx.api_version)
        assert r.status_code == 409 and error_of(r)["code"] == "Conflict", r.text
        assert f"while parent resource is {word}" in error_of(r)["message"], r.text
        # (the parent's own documents change as its backend works on it; the child's must not exist)
        assert StoreView(arm.rp.data_dir).documents(fx.kind.container_name, sub.lower()) == []
        ops = StoreView(arm.rp.data_dir).documents(ASYNC_OPERATIONS.name, sub.lower())
        assert [op for op in ops if op["container"] == fx.kind.container_name] == [], "an operation was left"

    with simulator.holding(creating):
        if len(names) > 2:
            create(arm, parent, sub, *names[:-2])
        assert arm.put(parent_path, parent.body(sub, names[-2]), version=parent.api_version).status_code == 201
        refused("provisioning")
    arm.wait(parent_path, {"Succeeded"}, version=parent.api_version)
    with simulator.holding(deleting):
        assert arm.delete(parent_path, version=parent.api_version).status_code == 202
        refused("deleting")
    arm.wait(parent_path, {"gone"}, version=parent.api_version)


def _implicit_operations(rp_data: Any, sub: str, container: str) -> list[dict[str, Any]]:
    ops = StoreView(rp_data).documents(ASYNC_OPERATIONS.name, sub.lower())
    return [op for op in ops if op.get("implicit") and op["container"] == container]


@pytest.mark.parametrize("fx", MANY_CHILDREN, ids=ids(MANY_CHILDREN))
def test_children_are_deleted_with_their_parent(arm: Arm, fx: KindFixture) -> None:
    parent = fixture_of(fx.kind.parent)
    sub = new_sub()
    parents = parents_of(fx, sub)
    for name in fx.names[:2]:
        create(arm, fx, sub, *parents, name)
    r = arm.delete(parent.path(sub, RG, *parents), version=parent.api_version)
    assert r.status_code == 202, r.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    for name in fx.names[:2]:
        assert arm.get(fx.path(sub, RG, *parents, name), version=fx.api_version).status_code == 404
    view = StoreView(arm.rp.data_dir)
    assert view.documents(fx.kind.container_name, sub.lower()) == []
    implicit = _implicit_operations(arm.rp.data_dir, sub, fx.kind.container_name)
    assert len(implicit) == 2 and all(op["asyncOperation"]["status"] == "Succeeded" for op in implicit)
    for op in implicit:  # never visible to clients
        status = arm.get(f"{location_path(sub)}/{fx.kind.operations.status}/{op['id']}", version=fx.api_version)
        assert status.status_code == 404, status.text


def test_a_deleted_subscription_takes_every_kind_with_it(arm: Arm) -> None:
    sub = new_sub()
    chains = [[*ancestors(f), f] for f in ALL]
    for chain in chains:
        create(arm, chain[-1], sub, *[f.names[0] for f in chain])
    arm.register(sub, "Deleted")
    deadline = time.monotonic() + 60
    for chain in chains:
        names = [f.names[0] for f in chain]
        for depth, f in enumerate(chain):
            while arm.get(f.path(sub, RG, *names[: depth + 1]), version=f.api_version).status_code != 404:
                assert time.monotonic() < deadline, f"{f.id} still there"
                time.sleep(0.05)
    left = arm.rows(sub)
    assert {c for c, _ in left} <= {"subscriptions", ASYNC_OPERATIONS.name, "billing"}, f"left: {left}"
    assert all(d["billing"].get("deletionTime") for c, d in left if c == "billing"), "billing not closed"


def test_every_served_kind_has_a_fixture(arm: Arm) -> None:
    """A new kind is covered by these tests as soon as it is registered (or this fails)."""
    ops = arm.get(f"/providers/{RESOURCE_PROVIDER}/operations").json()["value"]
    served = {
        o["name"].removesuffix("/read") for o in ops if o["name"].endswith("/read") and "/locations/" not in o["name"]
    }
    served.discard(f"{RESOURCE_PROVIDER}/operations")
    assert served == set(FIXTURES)
