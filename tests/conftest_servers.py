"""Fixtures of real servers on 127.0.0.1, registered by tests/conftest.py (`pytest_plugins`).

- `postgres_server` (session): a throwaway PostgreSQL cluster, one per test worker.
- `postgres` (function): the same cluster, started again if an earlier test left it stopped.
  A test may `postgres.stop()` and `postgres.start()` it (same port, same data).
- `oidc_provider` (session): a real OpenID Connect provider (oidc-provider-mock).
- `browser` (module): Debian's headless Chromium, driven by Playwright (which never
  downloads a browser here).

Outside CI, a missing PostgreSQL server or Chromium skips the tests that need it, with
the reason; with CI set, it fails them: CI must never pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from helpers import CHROMIUM, CHROMIUM_FLAGS
from oidc_server import OidcProvider, oidc_provider_server
from postgres_server import PostgresCluster, PostgresUnavailable, postgres_cluster


def skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where every server must be installed."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: .ci/run must install it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresCluster]:
    """One throwaway cluster for the whole session (per xdist worker); see `postgres`."""
    with ExitStack() as stack:
        try:
            cluster = stack.enter_context(postgres_cluster())
        except PostgresUnavailable as missing:
            skip_or_fail(str(missing))
        yield cluster


@pytest.fixture
def postgres(postgres_server: PostgresCluster) -> PostgresCluster:
    """The session's cluster, running: `postgres.url`, `.url_for(...)`, `.stop()`,
    `.start()`, `.create_database(name)`."""
    postgres_server.start()
    return postgres_server


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """A real OpenID Connect provider: `oidc_provider.issuer`, `.metadata_url`,
    `.set_user(sub, **claims)`, `.auth_secrets(...)`, `.sign_in(page, sub)`."""
    with oidc_provider_server() as provider:
        yield provider


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Headless Chromium (Debian's /usr/bin/chromium) for the module's tests."""
    if not CHROMIUM.exists():
        skip_or_fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with "
            "`apt-get update && apt-get install -y chromium` (never a downloaded browser)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()
