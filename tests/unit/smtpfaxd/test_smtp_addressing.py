"""Numbers and recipients: what `name@NUMBER.fax` and the alternative form become."""

from __future__ import annotations

import pytest

from faxgate.errors import SettingsError
from faxgate.mail.addresses import FaxRecipient, RecipientError, domain_accepted, fax_recipient
from faxgate.numbers import NumberError, blocking_pattern, dial_number, normalise
from faxgate.settings import registry
from faxgate.settings.regex_notation import parse_matcher

DEFAULT_MATCHER = parse_matcher(
    str(registry().get("sys.fax.configure.faxmail.matcher.fax").default)
)
DEFAULT_BLOCKED = list(registry().get("sys.fax.configure.dial.blocked").default)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("0991234", "0991234"),
        ("099 123-45", "09912345"),
        ("+49 991 234", "0049991234"),
        ("(0991) 23/45.6", "099123456"),
    ],
)
def test_normalise_keeps_digits_and_writes_plus_as_00(written: str, expected: str) -> None:
    assert normalise(written) == expected


@pytest.mark.parametrize("written", ["", "  ", "0991x234", "12#3", "٣٤٥", "1" * 31])
def test_normalise_refuses_what_cannot_be_dialled(written: str) -> None:
    with pytest.raises(NumberError):
        normalise(written)


def test_blocked_patterns_match_whole_numbers_and_prefixes() -> None:
    assert blocking_pattern("112", ["110", "112"]) == "112"
    assert blocking_pattern("1120", ["112"]) is None
    assert blocking_pattern("09001234", ["0900*"]) == "0900*"
    assert blocking_pattern("0990", ["0900*"]) is None


def test_dial_prefix_goes_in_front_and_block_list_sees_both_forms() -> None:
    assert dial_number("0991234", prefix="0").dialled == "00991234"
    assert dial_number("0991234", prefix="0").written == "0991234"
    with pytest.raises(NumberError, match="112"):
        dial_number("112", prefix="0", blocked=["112"])  # blocked as written
    with pytest.raises(NumberError, match="0112"):
        dial_number("112", prefix="0", blocked=["0112"])  # blocked as dialled


def test_default_address_form_gives_number_and_cover_name() -> None:
    recipient = fax_recipient("Mueller@0991234.fax", DEFAULT_MATCHER, ["fax"])
    assert (recipient.number, recipient.name) == ("0991234", "Mueller")
    upper = fax_recipient("Mueller@0991234.FAX", DEFAULT_MATCHER, ["fax"])
    assert upper.number == "0991234"


def test_dial_prefix_applies_to_mail_recipients() -> None:
    recipient = fax_recipient("x@0991234.fax", DEFAULT_MATCHER, ["fax"], dial_prefix="0")
    assert (recipient.number, recipient.written) == ("00991234", "0991234")


def test_documented_alternative_form_number_at_company_domain() -> None:
    matcher = parse_matcher(r"/||(\d+)@.*/")
    recipient = fax_recipient("009912700619@mydomain.de", matcher, ["mydomain.de"])
    assert recipient.number == "009912700619"
    assert recipient.name == ""  # the left part is the number, not a name
    with pytest.raises(RecipientError) as refused:
        fax_recipient("009912700619@otherdomain.de", matcher, ["mydomain.de"])
    assert refused.value.reply.startswith("550 5.7.1")


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("someone@gmail.com", "5.7.1"),  # relay attempt
        ("someone@fax.example.com", "5.7.1"),  # 'fax' inside, but not the fax domain
        ("Mueller@abc.fax", "5.1.1"),  # fax domain, no number
        ("Mueller@112.fax", "5.1.1"),  # emergency number
        ("Mueller@09001234.fax", "5.1.1"),  # premium rate
        ("not-an-address", "5.1.3"),
    ],
)
def test_refused_recipients_get_550_with_a_reason(address: str, status: str) -> None:
    with pytest.raises(RecipientError) as refused:
        fax_recipient(address, DEFAULT_MATCHER, ["fax"], blocked=DEFAULT_BLOCKED)
    reply = refused.value.reply
    assert reply.startswith(f"550 {status} ")
    assert len(reply) > len("550 5.1.1 ") + 10  # says why, not only the code


def test_domain_acceptance_is_exact_or_below() -> None:
    assert domain_accepted("0991234.fax", ["fax"])
    assert domain_accepted("MYDOMAIN.DE.", ["mydomain.de"])
    assert not domain_accepted("evilfax", ["fax"])
    assert not domain_accepted("fax.evil.com", ["fax"])


def test_recipient_round_trips_through_submission_params() -> None:
    recipient = fax_recipient("Mueller@0991234.fax", DEFAULT_MATCHER, ["fax"], dial_prefix="0")
    assert FaxRecipient.from_params(recipient.as_params()) == recipient


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sys.fax.configure.dial.prefix", "0a"),
        ("sys.fax.configure.dial.blocked", "112, 09*00"),
        ("sys.fax.configure.dial.blocked", "emergency"),
        ("sys.fax.configure.smtp.auth", "sometimes"),
    ],
)
def test_bad_gateway_settings_are_refused_with_the_key_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name.replace(".", r"\.")):
        registry().get(name).parse(value, source="test")


def test_good_gateway_settings_parse() -> None:
    assert registry().get("sys.fax.configure.dial.blocked").parse("110, 0900*") == [
        "110",
        "0900*",
    ]
    assert registry().get("sys.fax.configure.dial.prefix").parse("0") == "0"
