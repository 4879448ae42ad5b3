"""Sign-in (authentication=oidc) for real: a generated app served by `streamlit run`, its
[auth] section pointed at a real OpenID Connect provider on 127.0.0.1 (oidc-provider-mock),
driven through the whole flow in headless Chromium.

One server serves the whole module: the "oidc-memory" project (chats kept by LangGraph in
the server's memory, so a reload reopens the chat in the URL, and each user has a list of
their own chats), with ALLOWED_USERS naming alice and the domain example.org. Each test
starts without cookies (signed out). The page states themselves (every allow-list case,
each missing [auth] key, the session backend) are the generated projects' own AppTest
tests (tests/test_sign_in.py and tests/test_user_chats.py there), run by
test_generated_projects.py.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator

import pytest

from helpers import CHAT_MESSAGES, GREETING, SCRIPT_DONE, ask, free_port, messages, streamlit_server
from oidc_server import OidcProvider, block_outside_requests

pytestmark = pytest.mark.browser

ALLOWED_USERS = "Alice@Example.com, @example.org"
USER_COOKIE = "_streamlit_user"


class SignInApp:
    """The served app: its URL, its cookie secret, the provider it signs in with."""

    def __init__(self, url: str, cookie_secret: str, provider: OidcProvider) -> None:
        self.url = url
        self.cookie_secret = cookie_secret
        self.provider = provider


@pytest.fixture(scope="module")
def app(rendered, oidc_provider: OidcProvider, tmp_path_factory) -> Iterator[SignInApp]:
    """The oidc-memory project, copied, with a real [auth] section, served offline."""
    project = shutil.copytree(rendered("oidc-memory"), tmp_path_factory.mktemp("sign-in") / "app")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    cookie_secret = secrets.token_urlsafe(32)
    (project / ".streamlit" / "secrets.toml").write_text(
        oidc_provider.auth_secrets(url, cookie_secret=cookie_secret), encoding="utf-8"
    )
    with streamlit_server(
        project, port=port, LLM_PROVIDER="offline", ALLOWED_USERS=ALLOWED_USERS
    ) as served:
        assert served == url
        yield SignInApp(url, cookie_secret, oidc_provider)


@pytest.fixture(scope="module")
def browser_profile(browser):
    """One browser profile for the module, so that its tabs share the HTTP cache (Streamlit's
    scripts are fetched once); nothing off this machine is ever requested."""
    context = browser.new_context()
    block_outside_requests(context)
    yield context
    context.close()


@pytest.fixture
def context(browser_profile):
    """The browser profile, without any cookie of an earlier test (so signed out); the
    tabs a test opened are closed after it."""
    browser_profile.clear_cookies()
    yield browser_profile
    for page in browser_profile.pages:
        page.close()
    browser_profile.clear_cookies()


# --- What a page shows ------------------------------------------------------------------


def drawn(page) -> None:
    """Wait until the app's script run has ended and its page is drawn."""
    page.get_by_test_id("stApp").wait_for(timeout=30_000)
    page.locator(SCRIPT_DONE).wait_for(timeout=30_000)


def main_text(page) -> str:
    return page.get_by_test_id("stMainBlockContainer").inner_text().strip()


def sidebar_text(page) -> str:
    sidebar = page.get_by_test_id("stSidebar")
    return sidebar.inner_text().strip() if sidebar.count() else ""


def assert_signed_out_page(page) -> None:
    """The title and a Sign in button: no chat, no sidebar, nothing else."""
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    drawn(page)
    assert main_text(page).split() == ["My", "Chat", "App", "Sign", "in"]
    assert page.get_by_test_id("stChatInput").count() == 0
    assert page.locator(CHAT_MESSAGES).count() == 0
    assert sidebar_text(page) == ""


def sign_in(page, app: SignInApp, sub: str, email: str) -> None:
    """From the signed-out page, through the provider's login form, back to the app."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app.provider.issuer}/oauth2/authorize?**", timeout=30_000)
    app.provider.sign_in(page, sub, email=email)
    page.wait_for_url(lambda url: url.startswith(app.url), timeout=30_000)
    signed_in_page_drawn(page)


def signed_in_page_drawn(page) -> None:
    """Wait for the page of a signed-in user: the chat's question box, or why not."""
    page.get_by_test_id("stSidebar").get_by_text("Signed in as").wait_for(timeout=30_000)
    question_box_or_alert = page.get_by_test_id("stChatInput").or_(page.get_by_test_id("stAlert"))
    question_box_or_alert.first.wait_for(timeout=30_000)
    drawn(page)


def listed_chats(page) -> list[str]:
    """The titles of the sidebar's list of the user's chats."""
    return (
        page.get_by_test_id("stSidebar")
        .locator('[class*="st-key-open_chat_"] button')
        .all_inner_texts()
    )


def user_cookie(context, app: SignInApp) -> str | None:
    values = [c["value"] for c in context.cookies(app.url) if c["name"] == USER_COOKIE]
    return values[0] if values else None


# --- The flow ---------------------------------------------------------------------------


def test_signed_out_visitor_sees_the_title_and_a_sign_in_button_only(
    app: SignInApp, context
) -> None:
    page = context.new_page()
    page.goto(app.url)

    assert_signed_out_page(page)
    assert user_cookie(context, app) is None


def test_alice_signs_in_chats_reloads_and_signs_out(app: SignInApp, context) -> None:
    page = context.new_page()
    page.goto(app.url)
    assert_signed_out_page(page)

    sign_in(page, app, "alice", "alice@example.com")
    assert "Signed in as alice@example.com" in sidebar_text(page)
    assert messages(page) == [GREETING]
    ask(page, "Hello from alice")
    shown = messages(page)
    assert shown[1] == "Hello from alice"
    assert listed_chats(page) == ["Hello from alice"]
    assert user_cookie(context, app) is not None

    # A reload is a new Streamlit session: still signed in (the cookie), and the chat in
    # the URL is reopened from the store (with history_backend=session it would be gone:
    # that chat lives in the browser session).
    page.reload()
    signed_in_page_drawn(page)
    assert "Signed in as alice@example.com" in sidebar_text(page)
    assert messages(page) == shown
    assert listed_chats(page) == ["Hello from alice"]

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    # Streamlit clears its cookie and sends the browser to the provider's end-session
    # page, which asks for a confirmation, then back to the app.
    page.wait_for_url(f"{app.provider.issuer}/oauth2/end_session?**", timeout=30_000)
    app.provider.end_session(page)
    page.wait_for_url(app.url, timeout=30_000)
    assert_signed_out_page(page)
    assert user_cookie(context, app) is None


@pytest.mark.parametrize(
    ("sub", "email", "allowed"),
    [
        ("mallory", "mallory@elsewhere.example", False),
        ("carol", "Carol@Example.org", True),  # the @example.org entry, whatever the case
    ],
)
def test_only_users_on_the_allow_list_can_chat(
    app: SignInApp, context, sub: str, email: str, allowed: bool
) -> None:
    page = context.new_page()
    page.goto(app.url)
    drawn(page)

    sign_in(page, app, sub, email)

    assert f"Signed in as {email.lower()}" in sidebar_text(page)
    assert page.get_by_test_id("stChatInput").count() == (1 if allowed else 0)
    if not allowed:
        assert messages(page) == []
        assert "is not allowed to use this app" in main_text(page)
        assert page.get_by_test_id("stSidebar").get_by_role("button").all_inner_texts() == [
            "Sign out"
        ]


# --- Cookies ----------------------------------------------------------------------------


def user_cookie_for(app: SignInApp, sub: str, email: str, secret: str | None) -> str:
    """A `_streamlit_user` cookie for a user, as Streamlit writes it once the provider has
    vouched for them; signed with `secret` (None: not signed at all)."""
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    claims = {
        "iss": app.provider.issuer,
        "sub": sub,
        "email": email,
        "origin": app.url.rstrip("/"),
        "is_logged_in": True,
        "provider": "default",
    }
    if secret is None:
        return json.dumps(claims)
    return create_signed_value(secret, USER_COOKIE, json.dumps(claims)).decode()


def alices_cookie(app: SignInApp, secret: str | None) -> str:
    return user_cookie_for(app, "alice", "alice@example.com", secret)


def signed_in_as(context, app: SignInApp, sub: str, email: str) -> None:
    """The browser holds the cookie the app would set after this user's sign-in (the real
    flow is test_alice_signs_in_chats_reloads_and_signs_out; this one is quicker)."""
    context.clear_cookies()
    value = user_cookie_for(app, sub, email, app.cookie_secret)
    context.add_cookies([{"name": USER_COOKIE, "value": value, "url": app.url}])


@pytest.mark.parametrize("forgery", ["unsigned", "signed with another secret"])
def test_forged_cookie_gives_the_signed_out_page(app: SignInApp, context, forgery: str) -> None:
    secret = None if forgery == "unsigned" else secrets.token_urlsafe(32)
    cookie = {"name": USER_COOKIE, "value": alices_cookie(app, secret), "url": app.url}
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(app.url)

    assert_signed_out_page(page)


def test_cookie_signed_with_the_apps_own_secret_signs_in(app: SignInApp, context) -> None:
    # The other side of the forgery test: the forged cookies were well-formed, and only
    # their signature kept alice's session out. Whoever has cookie_secret can sign in as
    # anyone, which is why it is a secret.
    context.add_cookies(
        [{"name": USER_COOKIE, "value": alices_cookie(app, app.cookie_secret), "url": app.url}]
    )
    page = context.new_page()
    page.goto(app.url)
    signed_in_page_drawn(page)

    assert "Signed in as alice@example.com" in sidebar_text(page)
    assert page.get_by_test_id("stChatInput").count() == 1


# --- Whose chat -------------------------------------------------------------------------


def test_alices_chat_link_opened_by_bob_shows_nothing_of_it(app: SignInApp, context) -> None:
    signed_in_as(context, app, "alice", "alice@example.com")
    page = context.new_page()
    page.goto(app.url)
    signed_in_page_drawn(page)
    ask(page, "alice's private question")
    alices_link = page.url
    assert "?chat=" in alices_link

    signed_in_as(context, app, "bob", "bob@example.org")
    page.goto(alices_link)
    signed_in_page_drawn(page)

    assert "Signed in as bob@example.org" in sidebar_text(page)
    assert "Chat not found" in main_text(page)
    assert messages(page) == [GREETING]
    assert "alice" not in (main_text(page) + sidebar_text(page)).lower()
    assert listed_chats(page) == []
    assert page.url != alices_link  # a new chat of bob's own
