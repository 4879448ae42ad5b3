"""A real OpenID Connect provider on 127.0.0.1, and what a sign-in test needs around it.

The provider is `oidc-provider-mock` (PyPI), served by werkzeug on a thread of the test
process: discovery (/.well-known/openid-configuration), /oauth2/authorize with a login
form, token, userinfo, JWKS and an end-session page. Any client id and secret are accepted
and any redirect URI. Its login form takes a subject (`sub`); the claims of that user are
whatever was last PUT to /users/<sub> (without that: only {"email": sub}).

Streamlit's side: `auth_secrets()` writes the `[auth]` section of .streamlit/secrets.toml
for an app served on a known port (`helpers.streamlit_server(..., port=...)` serves it:
the redirect URI names the port, so it is chosen before the server starts).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

LOOPBACK_ONLY = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/])[a-z]+://")
"""Any URL that is not on this machine (the provider's pages link a CSS file on a CDN)."""

_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""urllib without any proxy of the environment: every server here is on 127.0.0.1."""


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    """http://127.0.0.1:PORT, also the `iss` claim of its ID tokens."""

    @property
    def metadata_url(self) -> str:
        """What Streamlit's `server_metadata_url` takes."""
        return f"{self.issuer}/.well-known/openid-configuration"

    def set_user(self, sub: str, **claims: Any) -> None:
        """Set (replace) the claims the provider gives `sub` from now on, e.g. email, name."""
        request = urllib.request.Request(
            f"{self.issuer}/users/{quote(sub, safe='')}",
            data=json.dumps(claims).encode(),
            headers={"Content-Type": "application/json"},
            method="PUT",
        )
        with _direct.open(request, timeout=10) as response:
            assert response.status == 204, response.read()

    def auth_secrets(
        self,
        app_url: str,
        *,
        client_id: str = "template-tests",
        client_secret: str = "template-tests-secret",
        cookie_secret: str | None = None,
    ) -> str:
        """The `[auth]` section of .streamlit/secrets.toml for an app served at app_url."""
        values = {
            "redirect_uri": f"{app_url.rstrip('/')}/oauth2callback",
            "cookie_secret": cookie_secret or secrets.token_urlsafe(32),
            "client_id": client_id,
            "client_secret": client_secret,
            "server_metadata_url": self.metadata_url,
        }
        # A JSON string is a valid TOML basic string.
        return "[auth]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())

    def sign_in(
        self, page: Any, sub: str, *, email: str | None = None, timeout: float = 30_000, **claims
    ) -> None:
        """On the provider's login form (a Playwright page), sign in as `sub`.

        The user gets an email claim (default `<sub>@example.com`) and any other claims
        given; then the form is submitted, and the provider redirects to the app.
        """
        self.set_user(sub, email=email or f"{sub}@example.com", **claims)
        field = page.locator('input[name="sub"]')
        field.wait_for(timeout=timeout)
        field.fill(sub)
        page.get_by_role("button", name="Authorize", exact=True).click()

    def end_session(self, page: Any, timeout: float = 30_000) -> None:
        """On the provider's end-session page (where Streamlit's logout leads), confirm."""
        page.get_by_role("button", name="End session").click(timeout=timeout)


@contextmanager
def oidc_provider_server(**options: Any) -> Iterator[OidcProvider]:
    """Serve oidc-provider-mock on a free 127.0.0.1 port on a thread; yield it, then stop.

    `options` go to `oidc_provider_mock.app` (require_nonce, user_claims, ...).
    """
    import oidc_provider_mock
    import werkzeug.serving

    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, oidc_provider_mock.app(**options), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        provider = OidcProvider(f"http://127.0.0.1:{server.server_port}")
        with _direct.open(provider.metadata_url, timeout=10) as response:
            assert json.load(response)["issuer"] == provider.issuer
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def block_outside_requests(context: Any) -> None:
    """Make a Playwright browser context fail fast on any URL not on this machine."""
    context.route(LOOPBACK_ONLY, lambda route: route.abort())
