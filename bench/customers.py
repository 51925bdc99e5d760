"""Synthetic customer records with the errors real channels make, and the truth about who is who.

Pools of names, street names and cities come from Faker (``en_US``,
seeded); records are drawn from them with numpy so a million take seconds
(a house number and a street; a city and one of its dozen postcodes).
About 30% of people appear again in another channel, some more than once;
a copy gets typos (a letter dropped, doubled, swapped or replaced), first and
last name swapped, fields left out, the phone written another way, the email
in other case with spaces; a fifth of people share a landline and a street
with another member of their household (same surname, another first name).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SOURCES = ("web", "till", "call-centre", "newsletter")
VERIFIED = {"web": True, "till": True, "call-centre": True, "newsletter": False}


def _pools(seed: int, size: int) -> dict[str, np.ndarray]:
    from faker import Faker

    fake = Faker("en_US")
    Faker.seed(seed)
    return {
        "first": np.array(sorted({fake.first_name() for _ in range(size)})),
        "last": np.array(sorted({fake.last_name() for _ in range(size)})),
        "street": np.array(sorted({fake.street_name() for _ in range(size)})),
        "city": np.array(sorted({fake.city() for _ in range(size)})),
        "domain": np.array(["gmail.com", "yahoo.com", "outlook.com", "example.org", "mail.com"]),
    }


def _typo(rng: np.random.Generator, text: str) -> str:
    if len(text) < 3:
        return text
    i = int(rng.integers(1, len(text) - 1))
    kind = int(rng.integers(4))
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    if kind == 2:
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    return text[:i] + "aeiou"[int(rng.integers(5))] + text[i + 1 :]


def _phone_formats(digits: np.ndarray, style: np.ndarray) -> np.ndarray:
    area, exchange, line = digits.str[:3], digits.str[3:6], digits.str[6:]
    formats = [
        "(" + area + ") " + exchange + "-" + line,
        "+1 " + area + "-" + exchange + "-" + line,
        digits,
        area + "." + exchange + "." + line,
    ]
    out = formats[0].to_numpy(dtype=object)
    for k in range(1, len(formats)):
        out = np.where(style == k, formats[k].to_numpy(dtype=object), out)
    return out


def people(n: int, seed: int = 11, pool: int = 3000) -> pd.DataFrame:
    """``n`` distinct people (with households), one clean row each."""
    rng = np.random.default_rng(seed)
    pools = _pools(seed, pool)
    first = rng.choice(pools["first"], n)
    last = rng.choice(pools["last"], n)
    number = pd.Series(rng.integers(1, 9999, n)).astype(str)
    street = (number + " " + pd.Series(rng.choice(pools["street"], n))).to_numpy(dtype=object)
    # A city has a few postcodes of its own.
    town = rng.integers(0, len(pools["city"]), n)
    city = pools["city"][town]
    postcode = pd.Series(10000 + (town * 37 + rng.integers(0, 12, n)) % 89999).astype(str).to_numpy()
    phone = pd.Series(rng.integers(2, 10, n) * 10**9 + rng.integers(0, 10**9, n)).astype(str)
    birth = pd.to_datetime(rng.integers(-15000, 12000, n), unit="D").strftime("%Y-%m-%d").to_numpy()
    # Households: the next person shares surname, street, city, postcode and landline.
    household = np.flatnonzero(rng.random(n) < 0.2)
    household = household[household + 1 < n]
    for column in (last, street, city, postcode):
        column[household + 1] = column[household]
    phone = phone.to_numpy(dtype=object)
    phone[household + 1] = phone[household]
    user = pd.Series(np.char.lower(first.astype(str))) + "." + pd.Series(np.char.lower(last.astype(str)))
    email = (user + pd.Series(rng.integers(1, 999, n)).astype(str) + "@" + rng.choice(pools["domain"], n)).to_numpy()
    return pd.DataFrame(
        {
            "person": np.arange(n),
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "address": street,
            "city": city,
            "postcode": postcode,
            "birth_date": birth,
        }
    )


def records(n: int, seed: int = 11) -> pd.DataFrame:
    """About ``n`` records: people in a first channel, ~30% again (with errors) in another."""
    rng = np.random.default_rng(seed + 1)
    base = people(int(n / 1.35), seed)
    copies = base.iloc[np.flatnonzero(rng.random(len(base)) < 0.3)]
    more = copies.iloc[np.flatnonzero(rng.random(len(copies)) < 0.17)]
    dup = pd.concat([copies, more], ignore_index=True)
    first_source = rng.integers(0, len(SOURCES), len(base))
    out = base.assign(source=np.array(SOURCES)[first_source])
    dup = dup.assign(source=np.array(SOURCES)[(first_source[dup["person"]] + rng.integers(1, 4, len(dup))) % 4])
    dup = _damage(dup.reset_index(drop=True), rng)
    frame = pd.concat([out, dup], ignore_index=True)
    # Each channel knows only some fields.
    keep = {
        "web": ("email", "first_name", "last_name", "address", "city", "postcode"),
        "till": ("phone", "first_name", "last_name", "postcode"),
        "call-centre": ("phone", "email", "first_name", "last_name", "birth_date"),
        "newsletter": ("email", "first_name", "last_name"),
    }
    for source, fields in keep.items():
        rows = frame["source"] == source
        for column in ("first_name", "last_name", "email", "phone", "address", "city", "postcode", "birth_date"):
            if column not in fields:
                frame.loc[rows, column] = ""
    frame["source_id"] = [f"{s[0]}{i}" for i, s in enumerate(frame["source"])]
    frame["verified"] = frame["source"].map(VERIFIED)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _damage(dup: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(dup)
    for column, rate in (("first_name", 0.2), ("last_name", 0.2), ("address", 0.15), ("email", 0.05)):
        rows = np.flatnonzero(rng.random(n) < rate)
        dup.loc[rows, column] = [_typo(rng, str(v)) for v in dup.loc[rows, column]]
    swap = rng.random(n) < 0.05
    dup.loc[swap, ["first_name", "last_name"]] = dup.loc[swap, ["last_name", "first_name"]].to_numpy()
    for column in ("email", "phone", "address", "birth_date", "postcode"):
        dup.loc[rng.random(n) < 0.1, column] = ""
    dup["phone"] = _phone_formats(dup["phone"].astype(str), rng.integers(0, 4, n))
    shout = rng.random(n) < 0.3
    dup.loc[shout, "email"] = "  " + dup.loc[shout, "email"].str.upper() + " "
    return dup
