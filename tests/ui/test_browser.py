"""`sqlml ui` in a real browser: Debian's Chromium driven by Selenium through Debian's
chromedriver (nothing downloads a browser or a driver), clicking models → model → compare →
alias move → rollback, with a screenshot of each page kept under the test's artifacts folder."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from sqlml.ui import create_app
from tests.ui.conftest import TOKEN

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
#: A headless browser that reaches nothing but the page under test.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--window-size=1280,1000")  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium and chromium-driver (apt install chromium chromium-driver)"),
]


@pytest.fixture
def server(store):
    """The UI, with a token, on a free loopback port in a thread; its base URL."""
    import uvicorn

    con, project = store
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    uvicorn_server = uvicorn.Server(uvicorn.Config(create_app(con, TOKEN, project), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def test_click_through_models_model_compare_and_move_an_alias(server, browser, store, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import Select, WebDriverWait

    con, _ = store
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()

    def click(element_id: str | None = None, link: str | None = None) -> None:
        """Click a button (by id) or a link (by text) and wait until the next page has replaced this one."""
        page = browser.find_element(By.TAG_NAME, "html")
        target = browser.find_element(By.ID, element_id) if element_id else browser.find_element(By.LINK_TEXT, link)
        target.click()
        WebDriverWait(browser, 30).until(staleness_of(page))

    def shot(name: str) -> None:
        assert browser.save_screenshot(str(artifacts / f"{name}.png"))

    def production() -> int | None:
        rows = con.query("SELECT version FROM ML.VERSIONS(MODEL ds.credit) WHERE 'production' IN UNNEST(aliases)").fetchall()
        return rows[0][0] if rows else None

    browser.get(server + "/login")
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    click("login")
    assert browser.current_url == server + "/models"
    shot("1-models")
    click(link="ds.credit")
    assert browser.find_element(By.TAG_NAME, "h1").text == "ds.credit"
    assert browser.find_element(By.CSS_SELECTOR, 'svg[aria-label="ROC curve"]').is_displayed()
    shot("2-model")

    browser.find_element(By.ID, "pick-1").click()
    browser.find_element(By.ID, "pick-2").click()
    click("compare")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Compare ds.credit"
    chart = browser.find_element(By.CSS_SELECTOR, 'svg[aria-label="Parallel coordinates"]')
    assert chart.is_displayed() and chart.size["width"] > 300
    header = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#compare-options tr:first-child th")]
    assert header == ["", "v1", "v2"]
    shot("3-compare")

    click(link="back to the model")
    name = browser.find_element(By.ID, "alias-name")
    name.clear()
    name.send_keys("production")
    Select(browser.find_element(By.ID, "alias-version")).select_by_value("2")
    click("move-alias")
    assert browser.find_element(By.ID, "ran").text == "Ran: ALTER MODEL `ds.credit@2` SET OPTIONS(version_aliases=['production'])"
    assert production() == 2
    shot("4-alias-moved")
    click("rollback-production")
    assert browser.find_element(By.ID, "ran").text == "Ran: ALTER MODEL `ds.credit@1` SET OPTIONS(version_aliases=['production'])"
    assert production() == 1
    shot("5-rolled-back")
    assert sorted(p.name for p in artifacts.iterdir()) == ["1-models.png", "2-model.png", "3-compare.png", "4-alias-moved.png", "5-rolled-back.png"]
    assert all(p.stat().st_size > 10_000 for p in artifacts.iterdir())  # rendered pages, not blank ones
    print(f"screenshots: {artifacts}")
