"""Stored-XSS payloads built from categories and variants, each carrying a unique marker.

Every payload that could run sets ``window.__xss`` or calls ``alert``; the
marker ``xssN`` lets a test prove the value was displayed (as text).
"""

from __future__ import annotations

import base64

_B64 = base64.b64encode(b"<script>window.__xss=1</script>").decode()

BASES = {
    "script close": [
        "</script ><script>window.__xss=1</script >",
        "</SCRIPT\t><svg onload=alert(1)>",
        "</script/x><img src=x onerror=alert(1)>",
        '"]}</script><script>alert(1)</script>',
    ],
    "script": [
        "<script>alert(1)</script>",
        "<ScRiPt>window.__xss=1</sCrIpT>",
        "<script src=data:,alert(1)></script>",
        "<<script>alert(1)//<</script>",
    ],
    "svg": [
        "<svg onload=alert(1)>",
        "<svg/onload=window.__xss=1>",
        "<svg><animate onbegin=alert(1) attributeName=x>",
        "<svg><script>alert(1)</script></svg>",
    ],
    "img": [
        "<img src=x onerror=alert(1)>",
        "<IMG SRC=x OnErRoR=window.__xss=1>",
        '<img src="x" onerror="alert(1)">',
        "<img/src/onerror=alert(1)>",
    ],
    "javascript url": [
        "javascript:alert(1)",
        "JaVaScRiPt:window.__xss=1",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "&#106;avascript:alert(1)",
        "javascript://%0aalert(1)",
    ],
    "attribute breaker": [
        '"><img src=x onerror=alert(1)>',
        "'><svg onload=alert(1)>",
        '" onmouseover="alert(1)',
        "' autofocus onfocus='alert(1)",
        '" autofocus onfocus="window.__xss=1',
        "`><img src=x onerror=alert(1)>",
    ],
    "template": [
        "{{7*7}}",
        "{{ config }}",
        "${7*7}",
        "{% raw %}{{7*7}}",
        "#{7*7}",
        "{{constructor.constructor('alert(1)')()}}",
    ],
    "unicode": [
        "\u202e<script>alert(1)</script>",
        "\u2028<img src=x onerror=alert(1)>",
        "＜script＞alert(1)＜/script＞",
        "\ufeff<svg onload=alert(1)>",
        '\u200b"><script>alert(1)</script>',
    ],
    "css": [
        '<div style="width:expression(alert(1))">',
        "<style>@import 'javascript:alert(1)';</style>",
        "<style>*{background:url(javascript:alert(1))}</style>",
        '<p style="behavior:url(x.htc)">',
    ],
    "iframe": [
        '<iframe srcdoc="<script>parent.__xss=1</script>">',
        "<iframe src=javascript:alert(1)>",
        '<iframe src="data:text/html,<script>alert(1)</script>">',
    ],
    "data url": [
        "data:text/html,<script>alert(1)</script>",
        f"data:text/html;base64,{_B64}",
        "data:image/svg+xml,<svg onload=alert(1)>",
    ],
    "other elements": [
        "<details open ontoggle=alert(1)>",
        "<body onload=alert(1)>",
        "<input autofocus onfocus=alert(1)>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<!--<script>-->alert(1)",
        '<a href="javascript:alert(1)">click</a>',
        '<base href="javascript:alert(1)//">',
        '<object data="javascript:alert(1)">',
        '<embed src="javascript:alert(1)">',
        "]]><script>alert(1)</script>",
        "<marquee onstart=alert(1)>",
    ],
}
VARIANTS = {
    "plain": lambda p: p,
    "upper": lambda p: p.upper().replace("ALERT", "alert"),
    "in url": lambda p: "http://shop.example/?q=" + p,
    "doubled": lambda p: p + p,
    "newlines": lambda p: "\n" + p.replace(">", ">\n"),
}


def payloads() -> list[tuple[str, str]]:
    """(category, payload) pairs; payload n ends with the marker ``xss<n>``."""
    out = []
    for category, bases in BASES.items():
        for base in bases:
            for name, variant in VARIANTS.items():
                out.append((f"{category}/{name}", variant(base)))
    return [(category, f"{text}//xss{n}x") for n, (category, text) in enumerate(out)]
