"""Identity verification: a store's server vouches for the user id a browser sends.

As Intercom and similar tools do it, the store's server computes

    userHash = hex(HMAC-SHA256(key=site's identity secret, message=user id))

when its customer signs in, and the page passes it along with the user id
(``basirat.identify(userId, traits, {userHash})``, or ``userHash`` beside
``userId`` on a recommendation request). Only someone who holds the secret, or
was handed the hash of that one id, can present it: a user id without it is a
claim, kept and shown as such but never trusted (``collector.trust``).
"""

from __future__ import annotations

import hashlib
import hmac


def user_hash(secret: str, user_id: str) -> str:
    """The hash the store's server hands its page for ``user_id`` (lower-case hex)."""
    return hmac.new(secret.encode("utf-8"), str(user_id).encode("utf-8"), hashlib.sha256).hexdigest()


def valid_user_hash(secret: str, user_id: str, given) -> bool:
    """Whether ``given`` is the hash of ``user_id`` under ``secret`` (constant time).

    No secret (a site made before identity verification, until its secret is
    created) verifies nothing.
    """
    if not secret or not user_id or not isinstance(given, str) or len(given) != 64 or not given.isascii():
        return False
    return hmac.compare_digest(user_hash(secret, user_id), given.lower())
