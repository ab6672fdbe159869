"""Browser journeys: Playwright for Python driving Debian's Chromium against a live server on PostgreSQL.

Every journey test is marked `e2e` (`make test-fast` skips them). Screenshots at desktop (1280 px) and phone
(390 px) widths go to `screenshots/` (gitignored); every customer page is checked with axe-core (vendored in
static/vendor/axe-core) for serious or critical accessibility violations.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from portal.management.commands.seed_demo import DEMO_PASSWORD

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make here are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
AXE = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.hookimpl(tryfirst=True)  # before `-m "not e2e"` deselects
def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (make test installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    """The demo data, e-mails to files we can read, private files in a temporary folder."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    return tmp_path


class Journey:
    """A browser tab at a given width, with helpers that read like what the person does."""

    def __init__(self, browser, live_server, name, width):
        self.base = live_server.url
        self.name = name
        self.width_name = width
        self.context = browser.new_context(
            viewport={"width": WIDTHS[width], "height": 900}, accept_downloads=True, locale="it-IT"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.shots = 0

    def goto(self, path):
        self.page.goto(self.base + path)
        return self.page

    def log_in(self, email, password=DEMO_PASSWORD):
        self.goto("/")
        self.page.get_by_label("Indirizzo e-mail").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.locator("main").get_by_role("button", name="Accedi").click()
        self.page.wait_for_load_state()

    def log_in_admin(self, email, password=DEMO_PASSWORD):
        self.goto("/admin/login/")
        self.page.fill("#id_username", email)
        self.page.fill("#id_password", password)
        self.page.locator("input[type=submit]").click()
        self.page.wait_for_load_state()

    def screenshot(self, label):
        self.shots += 1
        folder = SCREENSHOTS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        self.page.screenshot(
            path=str(folder / f"{self.shots:02d}-{slug}-{self.width_name}.png"), full_page=True
        )

    def check_accessibility(self):
        """No serious or critical axe-core violation on the current page."""
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility violations on {self.page.url}:\n" + "\n".join(bad)

    def look(self, label):
        """Screenshot and accessibility check: what every customer page in a journey goes through."""
        self.screenshot(label)
        self.check_accessibility()

    def close(self):
        self.context.close()


@pytest.fixture(params=["desktop", "phone"])
def journey(request, browser, live_server, demo):
    tab = Journey(browser, live_server, request.node.originalname.removeprefix("test_"), request.param)
    yield tab
    tab.close()


def read_mail(demo_dir):
    """Every e-mail written by the file backend so far, as text."""
    folder = Path(demo_dir) / "mail"
    return (
        "\n".join(path.read_text(errors="replace") for path in sorted(folder.glob("*")))
        if folder.exists()
        else ""
    )
