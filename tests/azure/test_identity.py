"""A real ``azure.identity.aio.ClientSecretCredential`` against the simulator's Entra-compatible token
endpoint, and ``ArmCloud``'s bounded retry of authorization failures (ARO's AuthorizationRetryingAction)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity.aio import ClientSecretCredential

from aro.api.errors import CloudError
from aro.cloud.arm import ArmCloud
from aro.cloud.simulator import TlsFiles
from aro.cloud.simulator._token import TokenIssuer
from tests.azure.conftest import CLIENT_ID, SIM_TOKEN, TENANT
from tests.cloud.conftest import SUB, Simulator


def credential(sim: Simulator, tls: TlsFiles, secret: str = SIM_TOKEN) -> ClientSecretCredential:
    return ClientSecretCredential(TENANT, CLIENT_ID, secret, authority=sim.base_url, connection_verify=str(tls.ca_file))


def arm(sim: Simulator, tls: TlsFiles, cred: Any, **kwargs: Any) -> ArmCloud:
    kwargs.setdefault("polling_interval", 0.02)
    kwargs.setdefault("retry_backoff_factor", 0.01)
    return ArmCloud(sim.base_url, cred, tls.ca_file, **kwargs)


async def test_client_secret_credential_gets_a_token_the_simulator_accepts(sim: Simulator, tls: TlsFiles) -> None:
    async with credential(sim, tls) as cred:
        token = await cred.get_token(f"{sim.base_url}/.default")
        assert token.token.count(".") == 2 and token.token != SIM_TOKEN, "an issued JWT, not the secret"
        assert token.expires_on > time.time() + 3000
        async with httpx.AsyncClient(base_url=sim.base_url, verify=sim.ssl) as http:
            rgs = f"/subscriptions/{SUB}/resourcegroups"
            ok = await http.get(
                rgs, params={"api-version": "2021-04-01"}, headers={"Authorization": f"Bearer {token.token}"}
            )
            assert ok.status_code == 200, ok.text
            forged = TokenIssuer("another-secret").issue(TENANT, CLIENT_ID, sim.base_url, "x")
            bad = await http.get(
                rgs, params={"api-version": "2021-04-01"}, headers={"Authorization": f"Bearer {forged}"}
            )
            assert bad.status_code == 401 and bad.json()["error"]["code"] == "InvalidAuthenticationToken"
            meta = await http.get(f"/{TENANT}/v2.0/.well-known/openid-configuration")
            assert meta.json()["token_endpoint"] == f"{sim.base_url}/{TENANT}/oauth2/v2.0/token"
        # the same credential drives the real SDK through ArmCloud
        async with arm(sim, tls, cred) as cloud:
            rg = await cloud.create_resource_group(SUB, "tok-rg", "eastus", "/x", {})
            assert rg.name == "tok-rg"
    posts = [e for e in await sim.requests() if e["path"].endswith("/oauth2/v2.0/token")]
    assert posts and all(e["status"] == 200 and e["method"] == "POST" for e in posts)
    assert len(posts) == 1, "azure-identity caches the token: one token request for many ARM calls"


async def test_wrong_secret_is_refused_like_entra(sim: Simulator, tls: TlsFiles) -> None:
    async with credential(sim, tls, "wrong") as cred:
        with pytest.raises(ClientAuthenticationError) as e:
            await cred.get_token(f"{sim.base_url}/.default")
    assert "invalid_client" in str(e.value) and "AADSTS7000215" in str(e.value)
    async with httpx.AsyncClient(base_url=sim.base_url, verify=sim.ssl) as http:
        r = await http.post(f"/{TENANT}/oauth2/v2.0/token", data={"grant_type": "password", "client_id": "x"})
        assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


async def test_authorization_failures_are_retried_until_they_clear(sim: Simulator, tls: TlsFiles) -> None:
    """Role assignments propagating: ARM answers 403 AuthorizationFailed a few times, then succeeds."""
    await sim.set_faults(
        {"operation": "createResourceGroup", "status": 403, "code": "AuthorizationFailed", "count": 3},
    )
    async with (
        credential(sim, tls) as cred,
        arm(sim, tls, cred, authorization_retry_seconds=10, authorization_retry_interval=0.05) as cloud,
    ):
        started = time.monotonic()
        rg = await cloud.create_resource_group(SUB, "authz-rg", "eastus", "/x", {})
        assert rg.name == "authz-rg" and time.monotonic() - started < 5
    puts = [e for e in await sim.requests() if e["method"] == "PUT" and e["path"].endswith("/authz-rg")]
    assert [e["status"] for e in puts] == [403, 403, 403, 201]


async def test_authorization_failure_surfaces_after_the_bounded_time(sim: Simulator, tls: TlsFiles) -> None:
    await sim.set_faults(
        {"operation": "createResourceGroup", "status": 403, "code": "AuthorizationFailed", "count": None},
    )
    async with credential(sim, tls) as cred:
        async with arm(sim, tls, cred, authorization_retry_seconds=0.5, authorization_retry_interval=0.1) as cloud:
            started = time.monotonic()
            with pytest.raises(CloudError) as e:
                await cloud.create_resource_group(SUB, "denied-rg", "eastus", "/x", {})
            assert 0.3 < time.monotonic() - started < 3
        assert (e.value.status, e.value.code) == (403, "AuthorizationFailed")
        assert "still failing after retrying authorization for" in e.value.message
        # off (the default): the first 403 surfaces at once, with ARM's own error
        async with arm(sim, tls, cred) as cloud:
            with pytest.raises(CloudError) as e:
                await cloud.create_resource_group(SUB, "denied-rg", "eastus", "/x", {})
            assert (e.value.status, e.value.code) == (403, "AuthorizationFailed")
            assert "retrying" not in e.value.message


async def test_other_forbidden_errors_are_not_retried(sim: Simulator, tls: TlsFiles) -> None:
    await sim.set_faults(
        {"operation": "createResourceGroup", "status": 403, "code": "RequestDisallowedByPolicy", "count": None},
    )
    async with (
        credential(sim, tls) as cred,
        arm(sim, tls, cred, authorization_retry_seconds=30, authorization_retry_interval=0.05) as cloud,
    ):
        started = time.monotonic()
        with pytest.raises(CloudError) as e:
            await cloud.create_resource_group(SUB, "policy-rg", "eastus", "/x", {})
        assert e.value.code == "RequestDisallowedByPolicy" and time.monotonic() - started < 2


async def test_a_credential_that_cannot_get_a_token_is_retried_then_reported(sim: Simulator, tls: TlsFiles) -> None:
    async with credential(sim, tls, "not-yet-replicated") as cred:
        async with arm(sim, tls, cred, authorization_retry_seconds=0.4, authorization_retry_interval=0.1) as cloud:
            with pytest.raises(CloudError) as e:
                await cloud.get_resource_group(SUB, "any")
    assert e.value.status == 500 and "could not obtain an Azure token (retried for" in e.value.message
    posts = [e for e in await sim.requests() if e["path"].endswith("/oauth2/v2.0/token")]
    assert len(posts) >= 3 and all(p["status"] == 401 for p in posts)


async def test_arm_401_is_retried_with_a_fresh_token_then_reported(sim: Simulator, tls: TlsFiles) -> None:
    from aro.cloud.credentials import StaticTokenCredential

    stale = StaticTokenCredential(TokenIssuer("another-secret").issue(TENANT, CLIENT_ID, sim.base_url, "x"))
    async with arm(sim, tls, stale, authorization_retry_seconds=0.4, authorization_retry_interval=0.1) as cloud:
        with pytest.raises(CloudError) as e:
            await cloud.get_resource_group(SUB, "any")
    assert (e.value.status, e.value.code) == (401, "InvalidAuthenticationToken")
    assert "still failing after retrying authorization" in e.value.message
    gets = [e for e in await sim.requests() if e["method"] == "GET" and e["path"].endswith("/resourcegroups/any")]
    assert len(gets) >= 3 and all(g["status"] == 401 for g in gets)
