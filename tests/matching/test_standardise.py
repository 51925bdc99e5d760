"""Standard values beside raw ones: names typed on two keyboards, phones of several countries, bad values flagged."""

import pandas as pd
import pytest

from matching.standardise import fold_text, standard_email, standard_phone, standardise


@pytest.mark.parametrize(
    "one, two",
    [
        ("علي رضايي", "علی رضایی"),  # Arabic yeh, Persian yeh
        ("كاظم", "کاظم"),  # Arabic kaf, Persian keheh
        ("فاطمة", "فاطمه"),  # teh marbuta, heh
        ("محمد\u200cرضا", "محمد رضا"),  # zero-width non-joiner, space
        ("مُحَمَّد", "محمد"),  # diacritics
        ("پلاک ۱۲", "پلاک 12"),  # Persian digits
        ("پلاک ١٢", "پلاک 12"),  # Arabic-Indic digits
        ("José  Müller-Lüdenscheidt", "jose muller ludenscheidt"),
        ("O'Brien, Zoë", "obrien zoe".replace("ob", "o b")),
        ("ＳＭＩＴＨ", "smith"),  # full-width letters
    ],
)
def test_names_typed_on_two_keyboards_fold_equal(one, two):
    assert fold_text(one) == fold_text(two)


def test_different_names_stay_different():
    assert fold_text("علی") != fold_text("عالی")
    assert fold_text("Sara") != fold_text("Zahra")


@pytest.mark.parametrize(
    "raw, region, e164",
    [
        ("0912 345 6789", "IR", "+989123456789"),
        ("+98 912 3456789", "IR", "+989123456789"),
        ("۰۹۱۲ ۳۴۵ ۶۷۸۹", "IR", "+989123456789"),  # Persian digits
        ("0098-912-345-6789", "GB", "+989123456789"),  # the number's own country wins
        ("020 7946 0018", "GB", "+442079460018"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("030 901820", "DE", "+4930901820"),
        ("+33 1 42 68 53 00", "", "+33142685300"),
    ],
)
def test_phones_of_several_countries_to_e164(raw, region, e164):
    assert standard_phone(raw, region) == (e164, True)


def test_emails_trimmed_lowercased_and_sub_addressing_on_request():
    assert standard_email("  Sara.Ahmadi+shop@GMail.com ") == ("sara.ahmadi+shop@gmail.com", True)
    assert standard_email("Sara.Ahmadi+shop@GMail.com", sub_addressing=True) == ("saraahmadi@gmail.com", True)
    assert standard_email("ali+x@example.ir", sub_addressing=True) == ("ali@example.ir", True)
    assert standard_email("") == ("", True)


def test_invalid_values_are_flagged_never_fatal():
    raw = pd.DataFrame(
        {
            "first_name": ["Ali", "Sara"],
            "email": ["not-an-address", "test@test.com"],
            "phone": ["12", "0912 345 6789"],
            "birth_date": ["31/31/1990", "۱۳۷۰/۰۱/۰۵"],
        }
    )
    out = standardise(raw, region="IR")
    assert list(out["email"]) == ["not-an-address", "test@test.com"]  # raw kept
    assert list(out["std_email"]) == ["", ""]
    assert list(out["std_phone"]) == ["", "+989123456789"]
    assert out["problems"].tolist() == [["email", "phone", "birth_date"], ["email"]]
    assert out.loc[1, "std_birth_date"] == "1370-01-05"
    assert list(out["std_first_name"]) == ["ali", "sara"]


def test_the_country_of_a_record_picks_the_phone_region():
    raw = pd.DataFrame({"phone": ["020 7946 0018", "020 7946 0018"], "country": ["GB", ""]})
    assert list(standardise(raw, region="IR")["std_phone"]) == ["+442079460018", "+982079460018"]
