"""Metadata stage: dates in many languages and formats, title guess, document type from the YAML rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import UsageError
from pipeline.model import PageText, Word
from pipeline.stages.dates import find_dates
from pipeline.stages.metadata import DocTypeRules, extract_metadata, load_doctype_rules

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
ALL_LANGUAGES = ("ron", "pol", "ukr", "rus", "hun", "deu", "eng")


@pytest.fixture(scope="module")
def rules() -> DocTypeRules:
    return load_doctype_rules(CONFIGS / "doctypes.yaml")


def page(text: str, number: int = 1, words: tuple[Word, ...] = ()) -> PageText:
    return PageText(number=number, text=text, words=words)


def words_of(line: str, conf: float) -> tuple[Word, ...]:
    return tuple(Word(token, (0, 0, 10, 10), conf) for token in line.split())


def isos(text: str, languages=ALL_LANGUAGES, rules=None) -> list[str]:
    rules = rules or DocTypeRules()
    return [d.iso for d in extract_metadata([page(text)], languages, rules).dates]


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(("text", "languages", "expected"), [
    ("Cluj, 12.04.1975", ("ron",), "1975-04-12"),
    ("data 12/04/1975", ("ron",), "1975-04-12"),
    ("dated 12/04/1975", ("eng",), "1975-04-12"),  # day first even in English: European archives
    ("din 1975-04-12", ("ron",), "1975-04-12"),
    ("Kolozsvár, 1975. 04. 12.", ("hun",), "1975-04-12"),
    ("nr. 5 din 12.IV.1975", ("ron",), "1975-04-12"),
    ("Kraków, dnia 12 IV 1975 r.", ("pol",), "1975-04-12"),
    ("Львів, 3.XI.1968", ("ukr",), "1968-11-03"),
    ("Львів, 3.ХІ.1968", ("ukr",), "1968-11-03"),  # Cyrillic Х and І read for Roman XI
    ("Budapest, 1975. IV. 12.", ("hun",), "1975-04-12"),
    ("încheiat azi, 12 aprilie 1975", ("ron",), "1975-04-12"),
    ("Warszawa, dnia 12 kwietnia 1975 r.", ("pol",), "1975-04-12"),
    ("Київ, 12 квітня 1975 р.", ("ukr",), "1975-04-12"),
    ("Москва, 12 апреля 1975 г.", ("rus",), "1975-04-12"),
    ("Wien, am 12. April 1975", ("deu",), "1975-04-12"),
    ("Debrecen, április 12, 1975", ("hun",), "1975-04-12"),
    ("Debrecen, 1975. április 12.", ("hun",), "1975-04-12"),
    ("London, April 12, 1975", ("eng",), "1975-04-12"),
    ("în luna martie 1975", ("ron",), "1975-03"),
    ("In May, 1942, the", ("eng",), "1942-05"),  # a comma between month and year: no date was found
    ("Cluj, martie, 1975", ("ron",), "1975-03"),
    ("Cluj, martie,1975", ("ron",), "1975-03"),  # as OCR spaces a comma
    ("Cluj, Martie , 1975", ("ron",), "1975-03"),
    ("Cluj, 12 martie,1975", ("ron",), "1975-03-12"),  # the day was lost
    ("London, May 12,1942", ("eng",), "1942-05-12"),
    ("12 kwi. 1975", ("pol",), "1975-04-12"),
    ("Nr. 1234/12.04.1975", ("ron",), "1975-04-12"),  # a registration stamp: number/date
    ("Київ, 12-го березня 1975 р.", ("ukr",), "1975-03-12"),  # ordinal days
    ("Kraków, dnia 1-go maja 1975 r.", ("pol",), "1975-05-01"),
    ("London, 12th March 1975", ("eng",), "1975-03-12"),
    ("London, March 12th, 1975", ("eng",), "1975-03-12"),
    ("Kolozsvár, 1975. évi március hó 12. napján", ("hun",), "1975-03-12"),  # the formal Hungarian date
    ("Cluj, 12.03.75", ("ron",), "1975-03-12"),  # two digits for the year
    ("Kraków, dnia 5/03/75 r.", ("pol",), "1975-03-05"),
    ("nr. 5 din 12.III.75", ("ron",), "1975-03-12"),
    ("Львів, 3 ХІ 68", ("ukr",), "1968-11-03"),
    ("în luna XII.1975", ("ron",), "1975-12"),  # a Roman month and a year
    ("Wien am 12.November 1939.", ("deu",), "1939-11-12"),  # the day's dot touching the month: the day was lost
    ("Kraków, 1.grudnia 2010 r.", ("pol",), "2010-12-01"),
    ("Львів, 12.березня 1975 р.", ("ukr",), "1975-03-12"),
    ("Wien, 12.Nov.1939", ("deu",), "1939-11-12"),  # nor a space after the abbreviation's dot
])
def test_date_formats(text, languages, expected):
    assert isos(text, languages) == [expected]


def test_found_date_keeps_source_text_year_and_page():
    meta = extract_metadata([page("fără date"), page("Cluj, 12 aprilie\n1975.", number=2)], ["ron"], DocTypeRules())
    (date,) = meta.dates
    assert (date.iso, date.year, date.text, date.page) == ("1975-04-12", 1975, "12 aprilie 1975", 2)
    assert meta.years == (1975,)


@pytest.mark.parametrize("text", [
    "tel. 0264 123 456",
    "tel. 0264-123-456, fax 0264.12.04.1975",  # digits glued to a date-like run belong to a number
    "conform art. 12 alin. 3 din lege",
    "art. 12 din 1975",
    "suma de 1.250 lei",
    "suma de 12.500.000 lei",
    "vezi pag. 12, 1975",
    "anul 1975 și 1976",
    "timp de 12 ani 1975",  # dateparser would read "12 ani" as twelve years ago
    "la 12 1975",  # a bare number is not a month
    "12.13.1975",  # no month 13; dateparser would swap it to 13 December
    "31.02.1975",
    "1650-04-12 and 12.04.2150",  # outside 1700-2100
    "l2.04.1975",  # OCR's l for 1: read as 2 April
    "domiciliat în str. 1 Decembrie 1918 nr. 5",  # addresses: read as 1 December 1918
    "Kraków, ul. 1 Maja 1975",
    "Bd. 23 August 1975, bl. 4",
    "punctul 3.2.10 din anexă",  # numbered sections: a two-digit year needs its month in two digits
    "29.02.75",  # no 29 February in 1975
    "Cap. I 1975",  # a Roman month alone before a year needs a dot or a slash between them
    "versiunea 12.03.75.5",
])
def test_no_false_dates(text):
    assert isos(text) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("Decizia din 12.03.25.", ["2025-03-12"]),  # no year written in full: the last hundred years up to 2026
    ("Decizia din 12.03.26.", ["2026-03-12"]),
    ("Decizia din 12.03.27.", ["1927-03-12"]),
    ("Decizia din 12.03.75.", ["1975-03-12"]),
    ("Decizia din 12.03.25, aprobată la 20.03.1925.", ["1925-03-12", "1925-03-20"]),  # the document's own century
    ("Registrul 1998: 3.11.1998, 12.01.99 și 4.02.00", ["1998-11-03", "1999-01-12", "2000-02-04"]),
    ("Contract din 12.05.2003, anexa din 30.12.98", ["2003-05-12", "1998-12-30"]),
])
def test_a_two_digit_year_gets_the_century_nearest_the_documents_dates(text, expected):
    assert [d.iso for d in find_dates([page(text)], ("ron",), this_year=2026)] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Decizia din 12.04.2075.", []),  # OCR's 2 for 1 in 1975
    ("Autorizație din 12.03.1975, valabilă până la 31.12.2027.", ["1975-03-12"]),
    ("Decizia din martie 2031.", []),
    ("Contract din 12.05.2020, anexa din 30.12.30", ["2020-05-12"]),  # two digits, nearest 2020: 2030
    ("Aprobat 12.12.2026.", ["2026-12-12"]),  # later this year is still this year
])
def test_a_date_after_this_year_is_no_records_date(text, expected):
    assert [d.iso for d in find_dates([page(text)], ("ron",), this_year=2026)] == expected


def test_dates_are_deduplicated_in_reading_order():
    text = "Aprobat 03.11.1968.\nÎnregistrat 12 aprilie 1975.\nVezi decizia din 3.XI.1968 și 12/04/1975."
    assert isos(text, ("ron",)) == ["1968-11-03", "1975-04-12"]


def test_day_and_year_month_of_same_month_are_both_kept():
    assert isos("12 martie 1975, plătit în martie 1975", ("ron",)) == ["1975-03-12", "1975-03"]


def test_unknown_language_codes_still_find_numeric_dates():
    assert isos("Praha 12.04.1975", ("xyz",)) == ["1975-04-12"]


# ---------------------------------------------------------------- title

PERMIT = """\
ROMÂNIA
JUDEȚUL CLUJ
PRIMĂRIA MUNICIPIULUI CLUJ-NAPOCA
Nr. 1234 / 12.04.1975

AUTORIZAȚIE DE CONSTRUIRE
Nr. 56 din 12 aprilie 1975

Ca urmare a cererii adresate de Popescu Ion, cu domiciliul în Cluj-Napoca, str. Horea nr. 3,
înregistrată la nr. 1234 din 2.III.1975, în conformitate cu prevederile Legii nr. 50/1991,
se autorizează executarea lucrărilor de construire pentru o casă de locuit, conform
certificatului de urbanism nr. 77 din 10.01.1975.
Primar,
"""


def test_title_prefers_line_naming_the_document_type(rules):
    assert extract_metadata([page(PERMIT)], ["ron"], rules).title == "AUTORIZAȚIE DE CONSTRUIRE"


def test_title_skips_short_numeric_and_low_confidence_lines(rules):
    text = "ROMÂNIA\n№ 12/3 — 1975\nxq Rzv ,,lj\nProces verbal de receptie a lucrarilor\n"
    words = words_of("ROMÂNIA", 95) + words_of("№ 12/3 — 1975", 90) + words_of("xq Rzv ,,lj", 21) \
        + words_of("Proces verbal de receptie a lucrarilor", 88)
    title = extract_metadata([page(text, words=words)], ["ron"], rules).title
    assert title == "Proces verbal de receptie a lucrarilor"


def test_title_may_be_one_word_that_names_the_type(rules):
    text = "Stadt Wien, Bauamt\nBaugenehmigung\nDem Bauherrn Franz Huber wird die Baugenehmigung erteilt."
    assert extract_metadata([page(text)], ["deu"], rules).title == "Baugenehmigung"


def test_title_prefers_top_line_over_body_line_with_more_keywords(rules):
    text = ("Starostwo Powiatowe w Krakowie\nDECYZJA nr 12/75\no pozwoleniu na budowę\n"
            "Zatwierdzam projekt i udzielam pozwolenia na budowę. Inwestor: Jan Kowalski.")
    assert extract_metadata([page(text)], ["pol"], rules).title == "o pozwoleniu na budowę"


def test_title_without_keywords_is_first_readable_line(rules):
    assert extract_metadata([page("12\nLista chiriașilor blocului B\nAlt rând\n")], ["ron"], rules).title \
        == "Lista chiriașilor blocului B"


def test_title_is_shortened_and_empty_when_nothing_fits(rules):
    long_line = "cerere " * 40
    title = extract_metadata([page(long_line)], ["ron"], rules).title
    assert len(title) <= 120 and title.endswith("…")
    assert extract_metadata([page("1975\n---\n12/3\n")], ["ron"], rules).title == ""
    assert extract_metadata([], ["ron"], rules).title == ""


# ---------------------------------------------------------------- document type


@pytest.mark.parametrize(("text", "languages", "expected"), [
    (PERMIT, ("ron",), "building_permit"),
    ("Starostwo Powiatowe w Krakowie\nDECYZJA nr 12/75\no pozwoleniu na budowę\n"
     "Zatwierdzam projekt i udzielam pozwolenia na budowę budynku mieszkalnego. Inwestor: Jan Kowalski.",
     ("pol",), "building_permit"),
    ("Рада Міністрів\nДОЗВІЛ НА БУДІВНИЦТВО № 14\nвидано забудовнику Іваненку І. І.", ("ukr",), "building_permit"),
    ("Stadt Wien, Bauamt\nBaugenehmigung\nDem Bauherrn Franz Huber wird die Baugenehmigung erteilt.",
     ("deu",), "building_permit"),
    ("Kolozsvár Város Tanácsa\nÉPÍTÉSI ENGEDÉLY\naz építtető Kovács János részére", ("hun",), "building_permit"),
    ("CONSILIUL POPULAR AL MUNICIPIULUI CLUJ\nHOTĂRÎREA nr. 45\nComitetul executiv hotărăşte:\n"
     "Art. 1. Se aprobă planul de sistematizare.", ("ron",), "council_decision"),
    ("UCHWAŁA NR XII/45/75\nRady Miejskiej w Krakowie\nz dnia 12 kwietnia 1975 r.\nRada Miejska uchwala, co następuje:",
     ("pol",), "council_decision"),
    ("Львівська міська рада\nРІШЕННЯ\nсесії міської ради від 12 квітня 1975 р.\nміська рада вирішила:",
     ("ukr",), "council_decision"),
    ("Beschluss des Gemeinderates vom 12. April 1975\nDer Gemeinderat beschließt in seiner Sitzung:",
     ("deu",), "council_decision"),
    ("Budapest Főváros Képviselő-testülete\n45/1995. (IV. 12.) határozata\na képviselő-testület határozat",
     ("hun",), "council_decision"),
    ("EXTRAS DE PE ACTUL DE NAȘTERE\nOficiul de stare civilă al comunei Florești\nNumele: Pop Maria",
     ("ron",), "civil_status"),
    ("ODPIS SKRÓCONY AKTU URODZENIA\nUrząd Stanu Cywilnego w Krakowie", ("pol",), "civil_status"),
    ("СВІДОЦТВО ПРО НАРОДЖЕННЯ\nвідділ РАЦС Львівського міського управління юстиції", ("ukr",), "civil_status"),
    ("Standesamt Hermannstadt\nGeburtsurkunde Nr. 217", ("deu",), "civil_status"),
    ("SZÜLETÉSI ANYAKÖNYVI KIVONAT\nAnyakönyvi hivatal: Debrecen", ("hun",), "civil_status"),
    ("CONTRACT DE VÂNZARE - CUMPĂRARE\nîncheiat azi la Biroul Notarial\nvânzătorul Pop Ion și cumpărătorul",
     ("ron",), "property_deed"),
    ("Sehr geehrte Damen und Herren,\nwir bitten um Auskunft über das Grundstück.\nMit freundlichen Grüßen",
     ("deu",), "correspondence"),
    ("Stimate domnule Primar,\nvă rugăm să ne comunicați situația.\nCu stimă,", ("ron",), "correspondence"),
])
def test_doc_type(rules, text, languages, expected):
    meta = extract_metadata([page(text)], languages, rules)
    assert meta.doc_type == expected, meta.doc_type_reason


def test_doc_type_reason_names_phrases_counts_and_title(rules):
    meta = extract_metadata([page(PERMIT)], ["ron"], rules)
    assert meta.doc_type_reason.startswith('matched "autorizați* de construire" (in title)')
    assert '"primăria | primăriei' in meta.doc_type_reason and "score" in meta.doc_type_reason
    assert meta.extra["doc_type_scores"]["building_permit"] > meta.extra["doc_type_scores"]["council_decision"]


def test_a_town_halls_name_alone_neither_types_a_record_nor_makes_its_title(rules):
    """Nearly every record of a town hall names it: three forms of "primăria" (and a beneficiary) filed a press
    release as a building permit, and its title was a line from the middle of the text."""
    text = ("Simplificarea procedurilor birocratice\nProiectul Primăriei Cluj-Napoca privind digitalizarea\n"
            "serviciilor pentru cetățeni. Primăria, prin această inițiativă, constituie un obiectiv fundamental\n"
            "în activitatea sa: actele eliberate de Primărie ajung la beneficiari mai repede. Primăria")
    meta = extract_metadata([page(text)], ["ron"], rules)
    assert meta.doc_type == "unknown", meta.doc_type_reason
    assert "common words only" in meta.doc_type_reason
    assert meta.title == "Simplificarea procedurilor birocratice"


@pytest.mark.parametrize(("text", "expected"), [
    # Common words led, a real hint came second: the type was lost to "unknown".
    ("Primăria comunei Florești\nLista beneficiarilor de ajutor social, conform hotărârea consiliului local\n"
     "Primăria, Primăriei, Primărie: beneficiar Pop Ion, beneficiar Rus Ana, beneficiar Man Ioan",
     "council_decision"),
    # Three different common words of one type: a deed, though no phrase names it.
    ("Între vânzătorul Pop Ion și cumpărătorul Rus Ana, în fața notarului public, vânzătorul declară\n"
     "că cumpărătorul a plătit prețul; vânzătorul predă imobilul, cumpărătorul îl primește.", "property_deed"),
    # ... but one notary matched by two languages' phrases ("notar* public", "Notar*") is one word, not two.
    ("NOTICE\nThe notary public will be available on Monday morning at the town hall.", "unknown"),
])
def test_common_words_yield_to_a_real_hint_and_three_of_them_decide(rules, text, expected):
    meta = extract_metadata([page(text)], ["ron"], rules)
    assert meta.doc_type == expected, meta.doc_type_reason


def test_neutral_text_is_unknown(rules):
    text = "Lista chiriașilor\nPopescu Ion, etaj 2\nIonescu Maria, etaj 3\nTotal: 14 persoane"
    meta = extract_metadata([page(text)], ["ron"], rules)
    assert meta.doc_type == "unknown"
    assert meta.doc_type_reason == "no keyword phrase matched"


def test_weak_words_alone_stay_below_min_score(rules):
    meta = extract_metadata([page("Primăria orașului Turda\nInventar de mobilier")], ["ron"], rules)
    assert meta.doc_type == "unknown"
    assert "min_score" in meta.doc_type_reason


def test_repeated_weak_phrase_is_capped(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("min_score: 3\nmax_hits_per_phrase: 2\ntypes:\n"
                    "  a:\n    phrases:\n      primărie: 1\n  b:\n    phrases:\n      contract: 3\n",
                    encoding="utf-8")
    meta = extract_metadata([page("Contract de închiriere\n" + "primarie " * 10)], ["ron"], load_doctype_rules(path))
    assert meta.extra["doc_type_scores"] == {"a": 2, "b": 6}  # "contract" names the type: counted again as the title
    assert meta.doc_type == "b"


def test_the_title_has_no_control_or_format_characters(rules):
    text = "AUTORIZA\u200bȚIE DE\x00 CONSTRUIRE\x07\nnr. 12 din 1975"
    # They went into document.json as read, while the PDF's XMP left them out: the two titles differed.
    assert extract_metadata([page(text)], ("ron",), rules).title == "AUTORIZAȚIE DE CONSTRUIRE"


@pytest.mark.parametrize("text", [
    "ACTIVITATEA de naștere a serviciului de stare",  # act* took "activitatea": civil status
    "Radiograma miejska nr 5, sesja",  # rad* miejsk* took a radiogram: council decision
    "Bérleti szerződés határozatlan időre, lásd a jegyzőkönyvet",  # határozat* took "indefinite": council
    "Beschluss des Amtsgerichts Hermannstadt",  # a court's decision: council decision
    "Primarily for the children. Primarily for the aged. Primarily.",  # primări* took English: building permit
])
def test_a_word_that_only_begins_like_a_keyword_does_not_decide_the_type(rules, text):
    assert extract_metadata([page(text)], ALL_LANGUAGES, rules).doc_type == "unknown"


@pytest.mark.parametrize("text", [
    "Zaświadczenie o zameldowaniu\nJan Kowalski\nSzanowni Państwo",  # a greeting alone (weight 2)
    "PRIMĂRIA MUNICIPIULUI CLUJ-NAPOCA\nInventar de mobilier\nSe predă primăriei mobilierul",  # weight 1, twice
])
def test_a_hint_in_the_title_does_not_decide_the_type_alone(rules, text):
    # The title is picked for holding the page's strongest phrase; a hint in it counted a second time, and one
    # greeting made a certificate a letter, a city hall's inventory a building permit.
    assert extract_metadata([page(text)], ALL_LANGUAGES, rules).doc_type == "unknown"


# ---------------------------------------------------------------- rules file and other fields


def test_config_rules_load_and_every_type_has_phrases(rules):
    names = [t.name for t in rules.types]
    assert names == ["building_permit", "property_deed", "council_decision", "civil_status", "correspondence"]
    assert rules.min_score == 3
    for doc_type in rules.types:
        assert doc_type.phrases and all(p.weight > 0 for p in doc_type.phrases), doc_type.name


def test_phrases_spelled_twice_are_kept_once(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("types:\n  permit:\n    phrases:\n      autorizație de construire: 3\n"
                    "      autorizatie de construire: 2\n", encoding="utf-8")
    (permit,) = load_doctype_rules(path).types
    assert [(p.text, p.weight) for p in permit.phrases] == [("autorizație de construire", 3)]


@pytest.mark.parametrize("body", ["types: [a, b]", "types:\n  a:\n    phrases:\n      x: -1\n",
                                  "types:\n  unknown:\n    phrases:\n      x: 1\n", "types: {a: {phrases: {}}}",
                                  "min_score: [1",
                                  # misspelt keys: their values were never used, and the defaults ran instead
                                  "min_scor: 3\ntypes:\n  a:\n    phrases:\n      x: 1\n",
                                  "types:\n  a:\n    phrase:\n      x: 1\n    phrases:\n      y: 1\n"])
def test_bad_rules_are_usage_errors(tmp_path, body):
    path = tmp_path / "rules.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(UsageError):
        load_doctype_rules(path)


def test_mean_confidence_is_weighted_over_all_pages(rules):
    pages = [page("ab", words=(Word("ab", (0, 0, 1, 1), 90.0),)),
             page("abcd", number=2, words=(Word("abcd", (0, 0, 1, 1), 60.0), Word("?", (0, 0, 1, 1), -1)))]
    meta = extract_metadata(pages, ["ron", "pol"], rules)
    assert meta.mean_confidence == pytest.approx((2 * 90 + 4 * 60) / 6)
    assert (meta.page_count, meta.languages) == (2, ("ron", "pol"))
