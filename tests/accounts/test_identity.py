"""ID numbers: validation per document type, derived facts, normalisation,
masking, encryption at rest with key rotation, and the keyed lookup hash."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.identity import (
    Gender,
    IdType,
    decrypt_id_number,
    encrypt_id_number,
    id_lookup_hash,
    login_username,
    mask_id_number,
    normalize_id_number,
    reencrypt_id_number,
    validate_id_number,
)

RESIDENT = IdType.RESIDENT_ID_CARD
PERMIT = IdType.HK_MACAO_TW_RESIDENCE_PERMIT
HK_MO_PASS = IdType.HK_MACAO_MAINLAND_TRAVEL_PERMIT
TW_PASS = IdType.TW_MAINLAND_TRAVEL_PERMIT
PASSPORT = IdType.PASSPORT
FOREIGNER = IdType.FOREIGNER_PERMANENT_RESIDENCE_CARD

# The worked example of GB 11643-1999: born 1949-12-31, female, check character X.
GB_EXAMPLE = "11010519491231002X"


def iso7064_check(first17: str) -> str:
    """MOD 11-2 by the standard's recursive method (independent of the app's weight table)."""
    p = 0
    for ch in first17:
        p = ((p + int(ch)) * 2) % 11
    return "0123456789X"[(12 - p) % 11]


def with_check(first17: str) -> str:
    assert len(first17) == 17
    return first17 + iso7064_check(first17)


def rejected(id_type: str, number: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_id_number(id_type, number)
    return info.value


def test_reference_check_matches_the_standards_worked_example():
    assert with_check(GB_EXAMPLE[:17]) == GB_EXAMPLE


# --- 居民身份证 -----------------------------------------------------------------


def test_resident_id_with_correct_check_is_accepted_and_facts_derived():
    number = with_check("52010219900307123")  # 17th digit 3: odd → male

    facts = validate_id_number(RESIDENT, number)

    assert facts.number == number
    assert facts.birth_date == dt.date(1990, 3, 7)
    assert facts.gender == Gender.MALE


def test_even_seventeenth_digit_is_female():
    facts = validate_id_number(RESIDENT, GB_EXAMPLE)

    assert facts.birth_date == dt.date(1949, 12, 31)
    assert facts.gender == Gender.FEMALE


@pytest.mark.parametrize("number", [with_check("52010219900307123"), GB_EXAMPLE, with_check("52242619851111000")])
def test_every_wrong_check_character_is_rejected(number):
    for wrong in "0123456789X":
        if wrong == number[-1]:
            continue
        error = rejected(RESIDENT, number[:17] + wrong)
        assert error.code == "checksum", wrong
        assert "校验位" in error.messages[0]


def test_lower_case_x_is_accepted_and_upper_cased():
    facts = validate_id_number(RESIDENT, GB_EXAMPLE.lower())

    assert facts.number == GB_EXAMPLE
    assert facts.number.endswith("X")


@pytest.mark.parametrize("birth", ["19900230", "19900431", "19000229", "20230229", "19900631"])
def test_impossible_birth_date_is_rejected(birth):
    error = rejected(RESIDENT, with_check(f"520102{birth}123"))

    assert error.code == "birth_date"
    assert "出生日期" in error.messages[0]


@pytest.mark.parametrize("birth", ["19901301", "19900001", "19900100", "19900132", "17900101"])
def test_out_of_range_month_or_day_fails_the_format(birth):
    assert rejected(RESIDENT, with_check(f"520102{birth}123")).code == "format"


def test_leap_day_is_a_real_birth_date():
    facts = validate_id_number(RESIDENT, with_check("52010220000229002"))

    assert facts.birth_date == dt.date(2000, 2, 29)


def test_future_birth_date_is_rejected():
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    number = with_check(f"520102{tomorrow:%Y%m%d}123")

    assert rejected(RESIDENT, number).code == "birth_date"


def test_birth_date_is_judged_against_the_given_day():
    number = with_check("52010220240615123")

    assert validate_id_number(RESIDENT, number, today=dt.date(2024, 6, 15)).birth_date == dt.date(2024, 6, 15)
    with pytest.raises(ValidationError):
        validate_id_number(RESIDENT, number, today=dt.date(2024, 6, 14))


def test_birth_year_before_1900_is_rejected():
    assert rejected(RESIDENT, with_check("52010218991231123")).code == "birth_date"


@pytest.mark.parametrize(
    ("area", "name"),
    [("520114", "小河区"), ("520221", "水城县"), ("520222", "盘县"), ("522101", "遵义市"), ("522201", "铜仁市")],
)
def test_abolished_guizhou_address_codes_are_accepted(area, name):
    number = with_check(f"{area}19850615004")

    facts = validate_id_number(RESIDENT, number)

    assert facts.number == number, name
    assert facts.gender == Gender.FEMALE


@pytest.mark.parametrize("bad", ["0" + GB_EXAMPLE[1:], "7" + GB_EXAMPLE[1:], "9" + GB_EXAMPLE[1:]])
def test_resident_id_first_digit_must_be_a_mainland_region(bad):
    assert rejected(RESIDENT, with_check(bad[:17])).code == "format"


@pytest.mark.parametrize("bad", [GB_EXAMPLE[:17], GB_EXAMPLE + "1", "11010519491231002Y", "110105194912310"])
def test_resident_id_wrong_length_or_characters_is_rejected(bad):
    assert rejected(RESIDENT, bad).code == "format"


def test_empty_number_and_unknown_type_are_refused():
    assert rejected(RESIDENT, "  ").code == "required"
    assert rejected("driving_licence", GB_EXAMPLE).code == "id_type"


# --- 港澳台居民居住证 ---------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_residence_permit_with_correct_check_is_accepted(prefix):
    number = with_check(f"{prefix}19880808001")

    facts = validate_id_number(PERMIT, number)

    assert facts.number == number
    assert facts.birth_date == dt.date(1988, 8, 8)
    assert facts.gender == Gender.MALE


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_residence_permit_with_wrong_check_is_rejected(prefix):
    number = with_check(f"{prefix}19880808001")
    wrong = "0" if number[-1] != "0" else "1"

    assert rejected(PERMIT, number[:17] + wrong).code == "checksum"


@pytest.mark.parametrize("prefix", ["840000", "810100", "520102"])
def test_residence_permit_needs_a_hk_macao_taiwan_prefix(prefix):
    assert rejected(PERMIT, with_check(f"{prefix}19880808001")).code == "format"


def test_residence_permit_is_not_a_resident_id_card():
    assert rejected(RESIDENT, with_check("81000019880808001")).code == "format"


def test_residence_permit_lower_case_x_and_impossible_date():
    number = next(n for n in (with_check(f"8200001990010100{i}") for i in range(10)) if n.endswith("X"))

    assert validate_id_number(PERMIT, number.lower()).number == number
    assert rejected(PERMIT, with_check("83000019900230001")).code == "birth_date"


# --- the other four types: format only (plus MOD 11-2 for the 2023 foreigner card) ---


@pytest.mark.parametrize("number", ["H12345678", "M87654321", "H1234567890", "m1234567890"])
def test_hk_macao_travel_permit_formats_accepted(number):
    facts = validate_id_number(HK_MO_PASS, number)

    assert facts.number == number.upper()
    assert facts.birth_date is None
    assert facts.gender is None


@pytest.mark.parametrize("number", ["H1234567", "H123456789", "H123456789012", "A12345678", "12345678", "HH2345678"])
def test_hk_macao_travel_permit_bad_formats_rejected(number):
    assert rejected(HK_MO_PASS, number).code == "format"


@pytest.mark.parametrize("number", ["12345678", "1234567890"])
def test_taiwan_travel_permit_formats_accepted(number):
    facts = validate_id_number(TW_PASS, number)

    assert facts.number == number
    assert facts.birth_date is None


@pytest.mark.parametrize("number", ["1234567", "123456789", "12345678901", "T1234567", "1234567A"])
def test_taiwan_travel_permit_bad_formats_rejected(number):
    assert rejected(TW_PASS, number).code == "format"


@pytest.mark.parametrize("number", ["E12345678", "EA1234567", "g12345678", "X1234", "AB12345678901234C"])
def test_passport_formats_accepted(number):
    assert validate_id_number(PASSPORT, number).number == number.upper()


@pytest.mark.parametrize("number", ["E123", "AB12345678901234CD", "E1234-5678", "E1234_567", "护照1234567"])
def test_passport_bad_formats_rejected(number):
    assert rejected(PASSPORT, number).code == "format"


def test_foreigner_card_2017_version_accepted():
    facts = validate_id_number(FOREIGNER, "usa110085060607")

    assert facts.number == "USA110085060607"
    assert facts.birth_date is None
    assert facts.gender is None


def test_foreigner_card_2023_version_needs_the_mod_11_2_check():
    number = with_check("93311019850615001")
    wrong = "0" if number[-1] != "0" else "1"

    assert validate_id_number(FOREIGNER, number).number == number
    assert rejected(FOREIGNER, number[:17] + wrong).code == "checksum"


@pytest.mark.parametrize(
    "number",
    ["US110085060607", "USA11008506060", "USA1100850606071", with_check("83311019850615001"), "93311019850615001"],
)
def test_foreigner_card_bad_formats_rejected(number):
    assert rejected(FOREIGNER, number).code == "format"


# --- normalisation ---------------------------------------------------------------


def test_full_width_characters_and_spaces_are_normalised():
    typed = "５２０１０２\u3000１９９００３０７ １２３" + iso7064_check("52010219900307123").replace("X", "ｘ")

    facts = validate_id_number(RESIDENT, f"  {typed}  ")

    assert facts.number == with_check("52010219900307123")


def test_normalise_upper_cases_and_strips_inner_whitespace():
    assert normalize_id_number(" h 1234\t5678 ") == "H12345678"
    assert normalize_id_number("ｅ１２３４５６７８") == "E12345678"
    assert normalize_id_number(None) == ""


# --- masking ----------------------------------------------------------------------


def test_eighteen_character_number_is_masked_in_the_middle():
    assert mask_id_number("52010219900307123X") == "520102********123X"


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("USA110085060607", "USA110*****0607"),
        ("H1234567890", "H1*******90"),
        ("H12345678", "H1*****78"),
        ("12345678", "12****78"),
        ("E1234", "E****"),
        ("", ""),
    ],
)
def test_shorter_numbers_keep_less(number, masked):
    assert mask_id_number(number) == masked


def test_mask_hides_the_birth_date():
    number = with_check("52010219900307123")

    masked = mask_id_number(number)

    assert len(masked) == len(number)
    assert "19900307" not in masked
    assert "0307" not in masked[6:-4]


# --- encryption at rest, key rotation ---------------------------------------------------


def test_encryption_round_trip_hides_the_number():
    number = with_check("52010219900307123")

    token = encrypt_id_number(number)

    assert token != number
    assert number not in token
    assert "19900307" not in token
    assert decrypt_id_number(token) == number
    assert encrypt_id_number(number) != token  # fresh IV each time: equal numbers do not look equal


def test_a_token_under_an_unknown_key_does_not_decrypt(settings):
    token = encrypt_id_number(GB_EXAMPLE)
    settings.ID_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(ValueError, match="cannot be decrypted"):
        decrypt_id_number(token)


def test_rotation_keeps_old_tokens_readable_and_reencrypts_under_the_new_key(settings):
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    settings.ID_ENCRYPTION_KEYS = [old_key]
    old_token = encrypt_id_number(GB_EXAMPLE)

    settings.ID_ENCRYPTION_KEYS = [new_key, old_key]
    assert decrypt_id_number(old_token) == GB_EXAMPLE
    new_token = reencrypt_id_number(old_token)
    fresh_token = encrypt_id_number(GB_EXAMPLE)

    settings.ID_ENCRYPTION_KEYS = [new_key]
    assert decrypt_id_number(new_token) == GB_EXAMPLE
    assert decrypt_id_number(fresh_token) == GB_EXAMPLE  # new numbers use the first key
    with pytest.raises(ValueError):
        decrypt_id_number(old_token)  # the old key really is gone


# --- keyed lookup hash -------------------------------------------------------------------


def test_lookup_hash_is_deterministic_and_not_the_number():
    value = id_lookup_hash(GB_EXAMPLE)

    assert value == id_lookup_hash(GB_EXAMPLE)
    assert len(value) == 64
    assert int(value, 16) >= 0
    assert GB_EXAMPLE not in value
    assert value != id_lookup_hash(with_check("52010219900307123"))
    assert login_username(GB_EXAMPLE) == "id:" + value


def test_lookup_hash_ignores_case_width_and_spaces():
    value = id_lookup_hash(GB_EXAMPLE)

    assert id_lookup_hash(GB_EXAMPLE.lower()) == value
    assert id_lookup_hash(" 110105 19491231 002ｘ ") == value


def test_lookup_hash_is_keyed(settings):
    before = id_lookup_hash(GB_EXAMPLE)

    settings.ID_HASH_KEY = "another-hash-key"

    assert id_lookup_hash(GB_EXAMPLE) != before
