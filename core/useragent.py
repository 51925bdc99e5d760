"""Browser and operating system from a User-Agent header, with ua-parser's maintained rules.

Parsing runs the rules' regexes one after another, so answers are cached:
a profile shows a handful of distinct agents, and the same few recur.
"""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse


def _named(family: str | None, major: str | None) -> str:
    if not family or family == "Other":
        return ""
    return f"{family} {major}" if major else family


@lru_cache(maxsize=4096)
def browser_and_os(user_agent: str) -> tuple[str, str]:
    """``("Chrome 120", "Windows 10")`` for an agent string; empty strings for what the rules don't know."""
    if not user_agent:
        return "", ""
    found = parse(user_agent[:1024])
    browser = _named(found.user_agent.family, found.user_agent.major) if found.user_agent else ""
    system = _named(found.os.family, found.os.major) if found.os else ""
    return browser, system
