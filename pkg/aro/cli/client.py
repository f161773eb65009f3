"""One HTTPS client per invocation, and the one place requests are made and their errors turned into
``ArmError`` (the RP answered with an error) or ``CliError`` (it could not be reached)."""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

import aro
from aro.cli.errors import ArmError, CliError, UsageError
from aro.cli.settings import Settings

USER_AGENT = f"aro-cli/{aro.__version__}"
TIMEOUT_SECONDS = 30.0
_NO_BODY: Any = object()


def ssl_context(settings: Settings) -> ssl.SSLContext:
    try:
        if settings.ca_file is not None:
            context = ssl.create_default_context(cafile=str(settings.ca_file))
        else:
            context = ssl.create_default_context()
    except (OSError, ssl.SSLError) as e:
        raise UsageError(f"cannot load the CA bundle {settings.ca_file}: {e}") from None
    if settings.client_cert is not None:
        key = str(settings.client_key) if settings.client_key is not None else None
        try:
            context.load_cert_chain(str(settings.client_cert), key)
        except (OSError, ssl.SSLError) as e:
            raise UsageError(f"cannot load the client certificate {settings.client_cert}: {e}") from None
    return context


class ArmClient:
    """ARM requests against one RP endpoint; ``request`` is the only method that talks to the network."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.http = httpx.Client(
            base_url=settings.endpoint,
            verify=ssl_context(settings),
            timeout=TIMEOUT_SECONDS,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
        )

    def __enter__(self) -> ArmClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        api_version: str | None = None,
        body: Any = _NO_BODY,
        headers: dict[str, str] | None = None,
        ok: Sequence[int] = (200,),
    ) -> httpx.Response:
        """``url`` is a path on the endpoint or an absolute URL the RP handed out (nextLink, operation URLs,
        which carry their own api-version). A status outside ``ok`` raises the RP's ArmError."""
        params = {"api-version": api_version} if api_version and "api-version=" not in url else None
        hdrs = {"x-ms-client-request-id": str(uuid.uuid4()), **(headers or {})}
        content: bytes | None = None
        if body is not _NO_BODY:
            content = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        try:
            response = self.http.request(method, url, params=params, content=content, headers=hdrs)
        except httpx.HTTPError as e:
            raise self._transport_error(e) from None
        if response.status_code not in ok:
            raise ArmError.from_response(response)
        return response

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """``request`` and its JSON body (a non-JSON success body is a CliError)."""
        response = self.request(method, url, **kwargs)
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CliError(
                f"the RP answered {method} {response.url.path} with {response.status_code} and a body that is not JSON"
            ) from None

    def pages(self, url: str, *, api_version: str) -> Iterator[Any]:
        """The items of a list, following ``nextLink`` until it is absent (or null)."""
        next_url: str | None = url
        seen: set[str] = set()
        while next_url:
            if next_url in seen:
                raise CliError(f"the RP returned the same nextLink twice: {next_url}")
            seen.add(next_url)
            page = self.json("GET", next_url, api_version=api_version)
            if not isinstance(page, dict) or not isinstance(page.get("value"), list):
                raise CliError(f"the RP answered GET {url} with a body that is not a list")
            yield from page["value"]
            link = page.get("nextLink")
            next_url = str(link) if link else None

    def _transport_error(self, e: httpx.HTTPError) -> CliError:
        return transport_error(
            e,
            self.settings,
            "is the RP running? (make run) Set the endpoint with --endpoint, AROCLI_ENDPOINT or the client config.",
        )


def transport_error(e: httpx.HTTPError, settings: Settings, hint: str) -> CliError:
    """A request that got no answer, said so the user can act: a timeout, an untrusted certificate (with
    where the CA comes from), a refused connection."""
    where = settings.endpoint
    if isinstance(e, httpx.TimeoutException):
        return CliError(f"the RP at {where} did not answer within {TIMEOUT_SECONDS:g}s ({type(e).__name__})", hint)
    text = str(e) or type(e).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        ca = settings.ca_file
        return CliError(
            f"the RP's TLS certificate at {where} is not trusted"
            + (f" by the CA bundle {ca}" if ca else " by the system trust store"),
            "pass the RP's CA with --ca-file or AROCLI_CA_FILE (a development RP writes it to "
            "<dataDirectory>/certs/ca.crt, by default ./.aro/certs/ca.crt).",
        )
    if isinstance(e, httpx.ConnectError):
        return CliError(f"cannot reach the RP at {where}: {_reason(text)}", hint)
    return CliError(f"request to the RP at {where} failed: {_reason(text)}", hint)


def _reason(text: str) -> str:
    # "[Errno 111] Connection refused" -> "Connection refused"
    if text.startswith("[Errno") and "] " in text:
        return text.split("] ", 1)[1]
    return text
