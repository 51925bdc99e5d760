"""Browser and system from user agents, as ua-parser's rules name them."""

import pytest

from core.useragent import browser_and_os


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            ("Chrome 131", "Windows 10"),
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.1 Mobile/15E148 Safari/604.1",
            ("Mobile Safari 17", "iOS 17"),
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", ("Firefox 128", "Linux")),
        ("", ("", "")),
        ("\x00nonsense", ("", "")),
    ],
)
def test_browser_and_system(agent, expected):
    assert browser_and_os(agent) == expected
