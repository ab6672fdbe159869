"""Journey 8: the same home page in English after the switch."""

from playwright.sync_api import expect


def test_language(journey):
    journey.log_in("mario.rossi@example.it")
    page = journey.page
    assert page.get_by_role("heading", level=1).inner_text() == "La tua Area Clienti"
    journey.look("home in italiano")

    if journey.width_name == "phone":
        page.get_by_role("button", name="Apri il menu").click()
    page.get_by_role("button", name="English").click()
    # The switch posts and reloads the page: wait for the new page, not for the load state of the old one.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your customer area")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Contracts and supplies").is_visible()
    journey.look("home in english")
