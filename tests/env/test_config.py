"""Configuration: file < environment < flags; every bad value is one clear line naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aro.env.config import ConfigError, all_keys, env_name, load

REPO = Path(__file__).resolve().parents[2]


def test_defaults() -> None:
    c = load(environ={})
    assert (c.mode.value, c.data_directory, c.location) == ("development", "./.aro", "eastus")
    assert (c.frontend.host, c.frontend.port) == ("127.0.0.1", 8443)
    assert (c.database.mode.value, c.cloud.mode.value) == ("embedded", "simulator")
    assert c.backend.heartbeat == c.backend.lease_seconds / 6


def test_env_rule_and_precedence(tmp_path: Path) -> None:
    f = tmp_path / "aro.yaml"
    f.write_text("frontend:\n  port: 9000\nbackend:\n  leaseSeconds: 12\nlocation: westus\n")
    assert env_name(("frontend", "port")) == "ARO_FRONTEND_PORT"
    assert env_name(("backend", "leaseSeconds")) == "ARO_BACKEND_LEASE_SECONDS"
    c = load(f, environ={})
    assert (c.frontend.port, c.backend.lease_seconds, c.location) == (9000, 12, "westus")
    c = load(f, environ={"ARO_FRONTEND_PORT": "9100"})
    assert c.frontend.port == 9100, "environment overrides the file"
    c = load(f, environ={"ARO_FRONTEND_PORT": "9100"}, overrides={"frontend.port": 9200, "location": None})
    assert (c.frontend.port, c.location) == (9200, "westus"), "flags override both; unset flags do not"
    c = load(environ={"ARO_CONFIG": str(f)})
    assert c.frontend.port == 9000, "ARO_CONFIG names the file"


@pytest.mark.parametrize(
    ("file", "environ", "message"),
    [
        ("frontend:\n  prot: 1\n", {}, "frontend.prot: unknown configuration key"),
        ("nope: 1\n", {}, "nope: unknown configuration key"),
        ("frontend:\n  port: 70000\n", {}, "frontend.port:"),
        ("", {"ARO_FRONTEND_PORT": "http"}, "frontend.port:"),
        ("", {"ARO_BACKEND_WORKERS": "many"}, "backend.workers:"),
        ("", {"ARO_FRONTEND_PROT": "1"}, "ARO_FRONTEND_PROT: unknown configuration variable"),
        ("mode: production\n", {}, "frontend.tls.certFile: production mode requires"),
        ("mode: staging\n", {}, "mode:"),
        ("frontend:\n  host: 0.0.0.0\n", {}, "frontend.host: development mode serves loopback"),
        ("backend:\n  leaseSeconds: 5\n  heartbeatSeconds: 6\n", {}, "backend.heartbeatSeconds:"),
        ("- a list\n", {}, "must be a mapping"),
        ("a: [\n", {}, "not valid YAML"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, file: str, environ: dict[str, str], message: str) -> None:
    f = tmp_path / "aro.yaml"
    f.write_text(file)
    with pytest.raises(ConfigError) as e:
        load(f, environ=environ)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_production_with_certs_is_accepted(tmp_path: Path) -> None:
    c = load(
        environ={
            "ARO_MODE": "production",
            "ARO_FRONTEND_HOST": "0.0.0.0",
            "ARO_FRONTEND_TLS_CERT_FILE": "c",
            "ARO_FRONTEND_TLS_KEY_FILE": "k",
            "ARO_FRONTEND_TLS_CA_FILE": "ca",
            "ARO_FRONTEND_AUTH_ARM_CLIENT_SUBJECT": "arm",
            "ARO_FRONTEND_AUTH_ADMIN_CLIENT_SUBJECT": "admin",
            "ARO_CLOUD_SIMULATOR_ENDPOINT": "https://simulator.example:8444",
        }
    )
    assert c.mode.value == "production"


PROD_TLS = {
    "ARO_MODE": "production",
    "ARO_FRONTEND_TLS_CERT_FILE": "c",
    "ARO_FRONTEND_TLS_KEY_FILE": "k",
    "ARO_FRONTEND_TLS_CA_FILE": "ca",
}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (PROD_TLS, "frontend.auth.armClientSubject: production mode requires"),
        ({**PROD_TLS, "ARO_FRONTEND_AUTH_ARM_CLIENT_SUBJECT": "arm"}, "frontend.auth.adminClientSubject"),
        ({"ARO_CLOUD_SIMULATOR_HOST": "0.0.0.0"}, "cloud.simulator.host: the hosted simulator serves loopback"),
        (  # issue 15: production with the hosted simulator (a default token, fault injection)
            {**PROD_TLS, "ARO_FRONTEND_AUTH_ARM_CLIENT_SUBJECT": "a", "ARO_FRONTEND_AUTH_ADMIN_CLIENT_SUBJECT": "b"},
            "cloud.mode: production mode does not host the cloud simulator",
        ),
    ],
)
def test_configurations_that_would_fail_silently_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(environ=environ)
    assert message in str(e.value)


def test_an_external_simulator_may_listen_anywhere() -> None:
    c = load(environ={"ARO_CLOUD_SIMULATOR_HOST": "0.0.0.0", "ARO_CLOUD_SIMULATOR_ENDPOINT": "https://sim:8444"})
    assert c.cloud.simulator.host == "0.0.0.0"


def test_env_example_documents_every_variable() -> None:
    text = (REPO / "env.example").read_text()
    documented = set(re.findall(r"^# (ARO_[A-Z_]+)=", text, re.M))
    assert documented == {env_name(k) for k in all_keys()} | {"ARO_CONFIG"}
