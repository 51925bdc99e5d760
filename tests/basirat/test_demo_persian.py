"""`basirat demo --locale fa`: the admin and the demo store in Persian, the demo site on the Jalali
calendar in Tehran's time zone, whatever language the browser asks for."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest

from tests.support.browser import screenshot
from tests.support.live import BASIRAT, stop_group
from tests.support.servers import free_port

from .test_demo import wait_for

pytestmark = [pytest.mark.process, pytest.mark.slow]


def test_demo_in_persian(browser, tmp_path):
    port = free_port()
    log_path = tmp_path / "demo.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*BASIRAT, "--data", str(tmp_path / "data"), "demo", "--locale", "fa", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        output = wait_for(log_path, "Basirat is ready", process, timeout=900)
        assert "demo: failed" not in output
        password = re.search(r"password (\S+)", output).group(1)
        url = f"http://127.0.0.1:{port}"
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
        page = context.new_page()
        page.goto(url + "/store/")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert "افزودن به سبد" in page.inner_text("main")
        screenshot(page, "demo-fa-store")
        page.goto(url + "/login")
        assert page.locator("html").get_attribute("lang") == "fa"
        page.fill("input[name=email]", "admin@demo.basirat")
        page.fill("input[name=password]", password)
        page.click("main form.form button[type=submit]")
        page.wait_for_url(re.compile(r"/s/\w+/$"))
        page.wait_for_selector(".chart canvas")
        assert page.locator("html").get_attribute("data-calendar") == "jalali"
        assert re.search("[۰-۹]", page.inner_text(".figure-value >> nth=0"))
        screenshot(page, "demo-fa-dashboard")
        page.goto(url + "/sites")
        assert re.search(r"۱۴[۰-۹]{2}/[۰-۹]{2}/[۰-۹]{2}", page.inner_text("table"))
        context.close()
    finally:
        stop_group(process, signal.SIGINT, timeout=60)
