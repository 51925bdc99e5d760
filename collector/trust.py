"""Which user ids and traits of a request the collector takes on trust.

The write key is public (it is in every page of the store), so a message sent
with it says only what a browser claims. Decided per request, at intake, where
the site's keys are known, and spooled with the messages; the loader turns it
into row flags (``pipeline.trust_flags``):

- sent with the site's **server key** (server-side libraries): every id and
  trait is the store's own word, flag ``server``;
- the site **trusts unsigned identifies** (its opt-in, the behaviour before
  identity verification existed): nothing is flagged;
- otherwise a message's user id is trusted only when the message carries its
  ``context.userHash`` (``core.identity``); a user id without one is flagged
  ``claimed``, and traits from the browser (an email, say) are always
  ``claimed_traits``, since the store's server signed only the id.

Claimed ids and traits are kept and shown, but the identity job never links
on them and every per-person figure counts the row as its browser's.
"""

from __future__ import annotations

from core.identity import valid_user_hash

SERVER, OPEN, BROWSER = "server", "open", "browser"


def request_trust(identity, by_server_key: bool, messages: list[dict]) -> dict:
    """What the spool keeps beside a request's messages: ``{"by": ..., "verified": [user ids]}``.

    ``identity`` is the site's (identity secret, trusts unsigned identifies).
    """
    if by_server_key:
        return {"by": SERVER}
    secret, trust_unsigned = identity
    if trust_unsigned:
        return {"by": OPEN}
    verified = set()
    for msg in messages:
        user_id, context = msg.get("userId"), msg.get("context")
        if user_id is None or type(context) is not dict or "userHash" not in context:
            continue
        user_id = str(user_id)
        if user_id not in verified and valid_user_hash(secret, user_id, context["userHash"]):
            verified.add(user_id)
    return {"by": BROWSER, "verified": sorted(verified)}
