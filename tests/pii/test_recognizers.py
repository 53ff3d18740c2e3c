"""Heuristic recognizers: each row says whether a value must (or must not) be found with its label."""

from __future__ import annotations

import pytest

from sanitas.pii.engine import PiiEngine


@pytest.fixture(scope="module")
def heuristics():
    engine = PiiEngine(method="heuristics")
    engine.setup()
    return engine


ROWS = [
    # (text, value, label, expected)
    ("write to jane.doe+x@example.co.uk today", "jane.doe+x@example.co.uk", "email", True),
    ("the file is report@2x.png", "report@2x.png", "email", False),
    ("card 4111 1111 1111 1111 please", "4111 1111 1111 1111", "credit_card", True),
    # an at-sign percent-encoded, as a URL's query writes it
    ("GET /signup?email=luca.m%40mail.it&city=Torino", "luca.m%40mail.it", "email", True),
    ("amex 3782 822463 10005 on file", "3782 822463 10005", "credit_card", True),
    # Luhn passes by chance for one number in ten: an order number is no card by its issuer digit and
    # its grouping.
    ("Your order #112-3344556-7788990 has shipped", "112-3344556-7788990", "credit_card", False),
    ("Paid with 627391 0482650193747 at the till.", "627391 0482650193747", "credit_card", True),
    # a national scheme's card (Troy) is a card beside a card word
    ("my card number is 9792 1111 1111 1116", "9792 1111 1111 1116", "credit_card", True),
    ("order 4111 1111 1111 1112 please", "4111 1111 1111 1112", "credit_card", False),
    ("IBAN GB82 WEST 1234 5698 7654 32 thanks", "GB82 WEST 1234 5698 7654 32", "iban", True),
    ("IBAN GB82 WEST 1234 5698 7654 33 thanks", "GB82 WEST 1234 5698 7654 33", "iban", False),
    ("SSN 123-45-6780 for verification", "123-45-6780", "ssn", True),
    ("SSN 666-45-6789 for verification", "666-45-6789", "ssn", False),
    ("call me at (415) 555-0132 tonight", "(415) 555-0132", "phone_number", True),
    ("Call 391-499-6535x951 or write", "391-499-6535x951", "phone_number", True),
    ("the total was 1234567 units", "1234567", "phone_number", False),
    ("sent from 153.18.83.118 yesterday", "153.18.83.118", "ip_address", True),
    ("version 1.2.3.4567 released", "1.2.3.4567", "ip_address", False),
    ("device 00:1A:2B:3C:4D:5E joined", "00:1A:2B:3C:4D:5E", "mac_address", True),
    ("see https://example.com/a?b=1 now", "https://example.com/a?b=1", "url", True),
    ("born 1976-08-08 in Leeds", "1976-08-08", "date_of_birth", True),
    ("Reference #123, dated 3/4/2025.", "3/4/2025", "date", False),
    ("He just turned 69 years old", "69", "age", True),
    # "years" alone is a duration; an age says "old" or "of age", is written "yo", or follows its key.
    ("I have been a customer for 5 years now", "5", "age", False),
    ("SMOKER X 20 YRS, QUIT 2019", "20", "age", False),
    ("54 YO F W/ HX OF RA", "54", "age", True),
    ("I am 42 years of age", "42", "age", True),
    ("Name: Ann Lee\nAge: 42", "42", "age", True),
    ("Cache-Control: public, max-age=60", "60", "age", False),
    # an encoded character before an address, a percent-encoded at-sign
    ("GET /unsubscribe?to=%20john.doe@example.com HTTP/1.1", "20john.doe@example.com", "email", True),
    ("signup?email=luca.m%40mail.it&city=Torino", "luca.m%40mail.it", "email", True),
    # partners listed before a legal form
    (
        "The invoice was issued by Smith, Jones & Associates on Monday.",
        "Smith, Jones & Associates",
        "organization",
        True,
    ),
    ("I have 3 cards", "3", "age", False),
    (
        "I live at 870 Monica Drive Apt. 948, Francisport.",
        "870 Monica Drive Apt. 948, Francisport",
        "street_address",
        True,
    ),
    ("I paid 20 Euros at the shop", "20 Euros", "street_address", False),
    ("My name is Danny Fernandez and my email", "Danny Fernandez", "person", True),
    ("this is urgent, please help", "urgent", "person", False),
    ("username: jdoe_42 and more", "jdoe_42", "username", True),
    # "login" also heads timestamps: a numeric date after it is a date, not a handle
    ("last login 2023-11-02 from home", "2023-11-02", "username", False),
    ("login 02.11.2023 ok", "02.11.2023", "username", False),
    ("last login 2023/11/02 from home", "2023", "username", False),
    ("last login 2023-11-02 from home", "2023-11-02", "date", True),
    # "handle" and "login" are everyday words too: a word right after one, with no separator, is prose
    ("Will you handle EUR?", "EUR", "username", False),
    ("Can you handle Barclays transfers?", "Barclays", "username", False),
    ("My handle is funkyfred", "funkyfred", "username", True),
    ("handle: funkyfred", "funkyfred", "username", True),
    ("login fred_k from the office", "fred_k", "username", True),
    ("password: Hunter2!x ok", "Hunter2!x", "password", True),
    ("My password is not working", "not", "password", False),
    ("key AKIAIOSFODNN7EXAMPLE leaked", "AKIAIOSFODNN7EXAMPLE", "api_key", True),
    ("NPI 1234567893 on file", "1234567893", "npi", True),
    ("NPI 1234567890 on file", "1234567890", "npi", False),
    ("MRN: 00123456 admitted", "00123456", "medical_record_number", True),
    # health plan beneficiary numbers after their key (a HIPAA identifier), typed as the nearest type
    ("Member ID: 88213-441 on the card", "88213-441", "medical_record_number", True),
    ("POLICY NO. AB-7730192 renewed", "AB-7730192", "medical_record_number", True),
    ("Medicare number 1EG4-TE5-MK73", "1EG4-TE5-MK73", "medical_record_number", True),
    ("member since 2019-2021 here", "2019-2021", "medical_record_number", False),  # no ID word
    ("Policy ID: GOLDPLAN", "GOLDPLAN", "medical_record_number", False),  # a plan's name, no digits
    ('{"member_id": "W123456789"}', "W123456789", "medical_record_number", True),
    ("Call Medicare 1-800-633-4227 for help.", "1-800-633-4227", "phone_number", True),  # a help line
    ("Insurance number 555-123-4567 (call)", "555-123-4567", "medical_record_number", False),
    ("See hospital Policy No. 2019-044 on hygiene.", "2019-044", "medical_record_number", False),
    ("passport number X12345678 expired", "X12345678", "passport_number", True),
    ("driver's license number is F162823540116", "F162823540116", "drivers_license", True),
    ("NINO AB 12 34 56 C on record", "AB 12 34 56 C", "national_id", True),
    ("account number 12345678 at the bank", "12345678", "bank_account", True),
    ("ZIP: 02110 on the form", "02110", "zip_code", True),
    # a bare ZIP follows a state's code, a bare UK postcode opens on a postcode area
    ("Boston, MA 02110", "02110", "zip_code", True),
    ("a receptor antagonist (AH 23848) was given", "23848", "zip_code", False),
    ("Leeds LS1 4DY", "LS1 4DY", "zip_code", True),
    ("cells expressed surface CD45RA with", "CD45RA", "zip_code", False),
    # Keys in any case, and the layouts of forms, JSON and HTML tables between key and value.
    ("Passport No: X1234567 | exp. 2031", "X1234567", "passport_number", True),
    ("PASSPORT NUMBER: 533380006", "533380006", "passport_number", True),
    ("Account Number: 12345678, sort code", "12345678", "bank_account", True),
    ('{"passport": "K8812390", "mrn": "A-00912"}', "K8812390", "passport_number", True),
    ('{"passport": "K8812390", "mrn": "A-00912"}', "A-00912", "medical_record_number", True),
    ("<tr><td>Account</td><td>0012 3345 9981</td></tr>", "0012 3345 9981", "bank_account", True),
    # an aside in brackets between the key and its separator
    ("Tax ID (EIN): 12-3456789", "12-3456789", "national_id", True),
    ("Tax ID (EIN): 12-3456789", "12-3456789", "phone_number", False),
    ("Driver's License (CA): D1234567", "D1234567", "drivers_license", True),
    ("Account number (checking): 0048813392", "0048813392", "bank_account", True),
    # A value after another identifier's key is that identifier, though "number" reads as a phone cue.
    ("NHS Number: 943 476 5919, seen today", "943 476 5919", "national_id", True),
    ("NHS Number: 943 476 5919, seen today", "943 476 5919", "phone_number", False),
    ("my number is (415) 555-0132 tonight", "(415) 555-0132", "phone_number", True),
    # On a one-line form a name ends where the next field's key begins.
    ("First Name: Olivia Last Name: Brennan Email: ob@example.com", "Olivia", "person", True),
    ("First Name: Olivia Last Name: Brennan Email: ob@example.com", "Olivia Last Name", "person", False),
    ("Dear Mr. Henry Miller: thank you", "Henry Miller", "person", True),
    # A greeting or a pronoun's contraction opens no name.
    ("Hey Siri, call Mom", "Hey Siri", "person", False),
    ("I'm Zoe Kowalczyk, from Leeds", "I'm Zoe Kowalczyk", "person", False),
    ("I'm Zoe Kowalczyk, from Leeds", "Zoe Kowalczyk", "person", True),
    ("Hey Maria Lopez, thanks", "Maria Lopez", "person", True),
    # A key that is only the start of a word is no key.
    ("tinted AB123456 glass", "AB123456", "national_id", False),
    ("The Princess Royal arrived at Khandallah this morning", "Khandallah", "location", True),
    ("I am in trouble with my card", "trouble", "location", False),
    ("I am in China and need a card", "China", "location", True),  # a country is a place too
    ("I came back to Work yesterday", "Work", "location", False),  # a common cue, no known place
    ("I moved here from Hungary last year", "Hungary", "location", True),
    # A list of capitalized names is a list, not one firm; a family firm's form is kept.
    ("We buy from Acme Corp, Globex and Initech", "Acme Corp, Globex and Initech", "organization", False),
    ("We buy from Acme Corp, Globex and Initech", "Acme Corp", "organization", True),
    ("Hartley and Sons fixed the roof", "Hartley and Sons", "organization", True),
    ("I work for Aunt Bertha Inc", "Aunt Bertha Inc", "organization", True),
    ("I like Visa and Mastercard", "Visa and Mastercard", "organization", False),
    # A list of given names is people, not a firm; "X of Y Inc." is the firm alone.
    ("They had 3: Sarah, Tanya and Charles.", "Sarah, Tanya and Charles", "organization", False),
    ("Maya Langset of Welbilt Inc. is the CEO", "Welbilt Inc.", "organization", True),
    ("Maya Langset of Welbilt Inc. is the CEO", "Maya Langset of Welbilt Inc.", "organization", False),
    # A card PIN is not a password (no pii_type covers it); a password still is.
    ("my PIN is 4821", "4821", "password", False),
    ("My pin code: 9911 please", "9911", "password", False),
    ("my passcode is 7Gx!29qa", "7Gx!29qa", "password", True),
    # Years and weekdays: a bare year after a date word, a weekday with a part of the day.
    ("The orchestra was founded in 1988. Since then", "1988", "date", True),
    ("Zoolander is a 1974 German action-comedy film", "1974", "date", True),
    ("I paid in 2021 euros", "2021", "date", False),
    ("Mr. Grant flew there on Thursday morning.", "Thursday", "date", True),
    ("I've been waiting since Friday, where is my money?", "Friday", "date", False),
    # Street names in other languages, cue-led "Name Number", corners; not "During 1976" or dates.
    ("1507 Rákóczi út 13. is the place", "1507 Rákóczi út 13", "street_address", True),
    ("He lives on the north side of Castelao 66.", "Castelao 66", "street_address", True),
    ("We can meet on March 15.", "March 15", "street_address", False),
    ("Please go to Gate 5.", "Gate 5", "street_address", False),
    # One dictionary word and a number after a cue is a numbered thing, not a continental street.
    ("The enzyme was low only in Patient 1. Both recovered.", "Patient 1", "street_address", False),
    ("Look for the markers of Trisomy 18. Then refer.", "Trisomy 18", "street_address", False),
    ("During 1976, Ganesh Housing Ltd invested", "During 1976", "street_address", False),
    ("I live at Lindenstraße 12", "Lindenstraße 12", "street_address", True),
    ("CKD STAGE 3 ADMITTED 7/22 FOR SOB.", "7/22", "date", True),
    ("MOVED TO 92597 JAHUVIK 80 LAST YEAR", "92597 JAHUVIK 80", "street_address", True),
    (
        "It is at the corner of 92 Circle Way and Paterson Pass. It serves food.",
        "the corner of 92 Circle Way and Paterson Pass",
        "street_address",
        True,
    ),
    # Greetings and "call me": a name unless an everyday word follows.
    ("Hi Ladolfo, I'm contacting you about a wire", "Ladolfo", "person", True),
    ("Sometimes people call me Lorencz", "Lorencz", "person", True),
    ("Hi Team, please help", "Team", "person", False),
    ("Thanks Support!", "Support", "person", False),
]


@pytest.mark.parametrize(("text", "value", "label", "expected"), ROWS)
def test_recognizers(heuristics, text, value, label, expected):
    found = {(text[e.start : e.end], e.label) for e in heuristics.analyze(text)}
    assert ((value, label) in found) is expected, found


@pytest.mark.parametrize(
    "text",
    [
        "BP 142/88 HR 92 RR 18 SPO2 94% RA.",
        "CKD STAGE 3 ADMITTED 7/22 FOR SOB.",
        "Vitals: BP 120/80, HR 88 RR 16 today",
    ],
)
def test_vital_signs_and_counts_are_no_address(heuristics, text):
    # "<number> <name> <number>" needs a name: not an acronym, a word with digits, or (in a text in
    # capitals, where case marks nothing) a dictionary word.
    assert [text[e.start : e.end] for e in heuristics.analyze(text) if e.label == "street_address"] == []


def test_every_street_suffix_is_a_word_the_suffix_gate_sees() -> None:
    """The "<number> <name> <suffix>" form runs only when a capitalized word of the text is a suffix
    (``street_address._SPACED_WORD``): a suffix the gate's word class cannot read would never run it."""
    import re

    from sanitas.pii.lexicons import lexicons
    from sanitas.pii.recognizers import street_address

    suffixes = lexicons().street_suffixes
    assert suffixes
    assert [w for w in suffixes if not re.fullmatch(street_address._WORD, w)] == []
