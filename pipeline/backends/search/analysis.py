"""Language-aware keys of a word, so that inflected forms find each other: `primăriei` ↔ `primăria`,
`urzędu` ↔ `urząd`, `міської` ↔ `міська`.

A word is indexed under its folded self (folding.py) and under keys like `ron_primar`: one or more stems or
lemmas per language of the page, tagged with the language so that stems of different languages never meet.
A query word is looked up under the keys of every language we analyse, since the clerk's language is unknown.

Stemmers: Snowball (snowballstemmer) for Romanian, Polish, Russian, Hungarian, German, English and the other
languages it covers; Ukrainian has no Snowball stemmer, so its words are lemmatized with pymorphy3 and its
Ukrainian dictionary (every lemma the analyser proposes is a key, since forms like `ради` are ambiguous).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

import snowballstemmer

from ...language_codes import language_of_model
from .folding import APOSTROPHES, fold

# Tesseract language code -> Snowball algorithm.
SNOWBALL = {
    "ron": "romanian", "pol": "polish", "rus": "russian", "hun": "hungarian", "deu": "german",
    "eng": "english", "fra": "french", "ita": "italian", "spa": "spanish", "por": "portuguese",
    "nld": "dutch", "ces": "czech", "dan": "danish", "swe": "swedish", "nor": "norwegian",
    "fin": "finnish", "lit": "lithuanian", "srp": "serbian", "tur": "turkish", "ell": "greek",
    "est": "estonian", "cat": "catalan", "eus": "basque",
}
LEMMATIZED = {"ukr"}
# The languages of the archives retrodig is made for: query words are looked up under their keys.
QUERY_LANGUAGES = ("ron", "pol", "ukr", "rus", "hun", "deu", "eng")
CYRILLIC_LANGUAGES = {"ukr", "rus", "srp"}
GREEK_LANGUAGES = {"ell"}

_ASCII_APOSTROPHE = str.maketrans(dict.fromkeys(APOSTROPHES, "'"))
_NO_APOSTROPHE = str.maketrans(dict.fromkeys(APOSTROPHES))
MIN_STEM_LENGTH = 2  # shorter stems would join unrelated words
MAX_LEMMAS = 4


def analysed_languages(languages: Iterable[str]) -> tuple[str, ...]:
    """The codes among `languages` that have a stemmer or lemmatizer (a page's OCR languages, say)."""
    seen = []
    for code in languages:
        code = code.strip().lower()
        code = language_of_model(code)  # a page read in Fraktur is analysed as German
        if (code in SNOWBALL or code in LEMMATIZED) and code not in seen:
            seen.append(code)
    return tuple(seen)


def word_keys(word: str, languages: Iterable[str]) -> frozenset[str]:
    """Language-tagged keys of one word (as printed or typed) for each of `languages` that fits its script."""
    return _keys(composed(word).casefold(), tuple(languages))


@functools.lru_cache(maxsize=500_000)
def keys_text(word: str, languages: tuple[str, ...]) -> str:
    """The word's keys as the embedded index stores them: space-separated, in a stable order."""
    return " ".join(sorted(_keys(composed(word).casefold(), languages)))


def composed(text: str) -> str:
    """`text` in NFC, for the stemmers and language analyzers: a word typed or stored decomposed (s + combining
    comma, as some keyboards and macOS write ș) is no run of letters to them, and got no keys (`orașul` typed so
    did not find `orașului`). Marks with no composed letter are dropped: a Russian or Ukrainian stress mark
    (Реше́ние)."""
    if text.isascii():
        return text
    nfc = unicodedata.normalize("NFC", text)
    return nfc if nfc.isalpha() else "".join(ch for ch in nfc if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=500_000)
def _keys(word: str, languages: tuple[str, ...]) -> frozenset[str]:
    if not word.translate(_NO_APOSTROPHE).isalpha():  # сім'я is a word of letters
        return frozenset()
    script = _script(word)
    keys = set()
    for code in languages:
        if _script_of_language(code) != script:
            continue
        for stem in _stems(word, code):
            if len(stem) >= MIN_STEM_LENGTH:
                keys.add(f"{code}_{stem}")
    return frozenset(keys)


def _stems(word: str, code: str) -> set[str]:
    if code == "ukr":
        return _ukrainian_lemmas(word)
    stemmer = _snowball(SNOWBALL[code])
    folded = fold(word)
    if code == "pol":
        return _polish_stems(word, folded, stemmer)
    once = stemmer.stemWord(folded)
    # The stem of the word as printed, folded; and of the folded word. Romanian's is stemmed once more: Snowball's
    # suffix rules expect diacritics (-ație), which a clerk may not type. Not other languages': a stem stemmed
    # again loses letters of the word itself (Russian Семенов -> семен -> сем, the stem of семь and семья;
    # Hungarian Szőke -> szok -> szo, the stem of szó), and a search for a word found surnames.
    stems = {fold(stemmer.stemWord(word)), once}
    if code != "ron":
        return stems
    stems.add(stemmer.stemWord(once))
    return stems | _romanian_alternates(word, folded, stems)


def _romanian_alternates(word: str, folded: str, stems: set[str]) -> set[str]:
    """More stems of a Romanian word (`word`, `folded`, and Snowball's `stems` of it), for forms Snowball parts.

    - A noun made of a long infinitive keeps its r: Snowball takes -are/-âre/-ere for a verb's ending in the
      singular only (hotărâre: hotar, hotărârile: hotarar; vânzare: vanz, vânzării: vanzar).
    - The stem's vowels and last consonant alternate with the ending: oa/o (școală, școli; poartă, porți),
      ea/e (cetățean, cetățeni), a/e before an -e or -i ending after i or before ț (italian, italieni;
      suprafață, suprafețe; typed without diacritics, suprafete, in stems of 7 letters or more),
      d/z (stradă, străzi); -iu, -ur and -e are left on some stems (consiliu, consiliului; terenuri, teren;
      acte, act).

    Written by hand: Snowball has no rule for them, and they split a clerk's hotărâre, vânzare, consiliu,
    teren, stradă, act from their other forms. On the 30,000 most frequent Romanian words (wordfreq's list)
    they join 6,600 more pairs of words to Snowball's 68,000, about six in seven of 50 drawn forms of one word
    or of one family (gear and ger, coastă and coste are not); a/e adds 110 more, nearly all right (after
    other letters it joined carnete, booklets, with cârnați, sausages, and germeni with german; in shorter stems
    mere with mare, care with ceri).
    A vowel alternates only in stems of 5 letters or more (a/e: 6, the e before the stem's last letter); stems
    shorter than 3 letters are not kept."""
    alternates = set()
    for ending in ("rea", "re"):
        if folded.endswith(ending) and len(folded) >= len(ending) + 4 and folded[-len(ending) - 1] in "aei":
            alternates.add(folded[:1 - len(ending)])  # hotarare -> hotarar
            break
    for stem in stems:
        if "oa" in stem and len(stem) >= 5:
            alternates.add(stem.replace("oa", "o"))
        if "ea" in stem[1:] and len(stem) >= 5:  # not deal (hill) -> del, the old spelling's "dela" (de la)
            alternates.add(stem[0] + stem[1:].replace("ea", "e"))
        if stem.endswith("z") and len(stem) >= 4:
            alternates.add(stem[:-1] + "d")
        if stem.endswith(("iu", "ur")) and len(stem) >= 6:
            alternates.add(stem[:-2])
        if stem.endswith("e") and len(stem) >= 4:
            alternates.add(stem[:-1])
        if folded[len(stem):len(stem) + 1] in ("e", "i") and len(stem) >= 6 and stem[-2] == "e" and (
                stem[-3] == "i" or stem.endswith("et") and ("eț" in word or "eţ" in word or
                                                         word == folded and len(stem) >= 7)):
            alternates.add(stem[:-2] + "a" + stem[-1])  # italieni -> italian, suprafețe (suprafete) -> suprafat
    return {alternate for alternate in alternates if len(alternate) >= 3}


def _polish_stems(word: str, folded: str, stemmer) -> set[str]:
    """Snowball's Polish stems, with the ą/ę alternation of stems (urząd, urzędu) joined.

    Written by hand because no Snowball rule covers it: the nasal vowel of the stem changes with the case,
    so ę becomes ą before folding. A word written without any diacritics (typed so, or OCR lost them) may
    have had either, so it also gets the key with its stem's last e read as ą; and one ending in -ow that of
    -ów, the ending of most genitive plurals (partnerów, urzędów), which Snowball takes off only with its ó.
    """
    stems = {fold(stemmer.stemWord(word).replace("ę", "ą")), stemmer.stemWord(folded)}
    if folded in _POLISH_MONTHS:
        stems.add(_POLISH_MONTHS[folded])
    if word == folded:
        if folded.endswith("ow") and len(folded) >= 6:  # -ów (genitive plural) without its ó, which Snowball's
            stems.add(stemmer.stemWord(folded[:-2] + "ów"))  # rule needs: partnerow was no form of partnerami
        for stem in list(stems):
            last = stem.rfind("e")
            if last >= 0:
                stems.add(stem[:last] + "a" + stem[last + 1:])
    return stems | {hard for stem in stems for hard in _hardened(stem, folded)}


# Polish months whose name (styczeń, marzec) has a stem other than their other cases' (stycznia, marca: a date's
# month is in the genitive): nominative, folded -> the other cases' stem. Written out, twelve words' worth: no
# Snowball rule joins them, and a clerk's "marzec 1954" found no page printing "12 marca 1954".
_POLISH_MONTHS = {"styczen": "styczn", "marzec": "marc", "kwiecien": "kwietn", "sierpien": "sierpn",
                  "wrzesien": "wrzesn", "grudzien": "grudn"}

# The consonants Polish softens before the -e/-i of the locative and dative (radzie, drodze, Polsce, kwaterze,
# musze), each with the ones it comes from; longest first.
_SOFTENED = (("dz", ("d", "g")), ("rz", ("r",)), ("sz", ("ch",)), ("c", ("k",)))


def _hardened(stem: str, folded: str) -> set[str]:
    """The stems `stem` (of the word `folded`) may come from through Polish alternations Snowball leaves: a
    consonant softened before the word's ending -e or -i (radzie: radz, rada: rad; urzędzie, sądzie, drodze,
    księdze, Polsce, działce, kwaterze; akcie, mieście, dokumencie: Snowball cut the t with the -cie), the a
    before a softened d, r or t that becomes e (sąsiad, sąsiedzie; wiara, wierze; powiat, powiecie; miasto,
    mieście), and the e that drops from a last syllable -ek/-ec (wniosek: wniosku, budynek, podatek, rynek,
    chłopiec: chłopca). A consonant with no such ending after it is the word's own: więc (so) is no form of
    wiek (age), ksiądz (priest) none of księga (register).

    Written by hand: Snowball has no rule for them, and they split a clerk's urząd, sąd, wniosek, budynek,
    podatek from their other cases. Stempel (pystempel, the stemmer of Elasticsearch's analysis-stempel) was
    measured: it joins urząd/urzędzie but not rada/radzie, sąd/sądzie, wniosek/wniosku, and takes 0.6 s to
    load in every process (each search from the command line). On the 30,000 most frequent Polish words
    (wordfreq's list) the rules join 2,800 more pairs of words to the 61,000 Snowball joins, about three in four
    of 40 drawn forms of one word or of one family (czeski and części, wierszy and wierze are not); -cie and
    a/e add 850 more, about nine in ten right (świecie and święty, bycie and Bytom are not). A hardened stem
    is kept from 4 letters (3 for d: rad, sąd; for t only after a consonant: akt, not życie: żyto), shorter
    ones joined more unrelated words."""
    hard = set()
    softening_ending = folded[len(stem):len(stem) + 1] in ("e", "i")  # stems keep the word's length (ą/ę: a/e)
    for softened, sources in _SOFTENED if softening_ending else ():
        if stem.endswith(softened):
            base = stem[:-len(softened)]
            hard.update(base + source for source in sources if len(base + source) >= (3 if source == "d" else 4))
            break
    before_cie = folded[:-3] + "t"  # akcie: akt, mieście: miest (Snowball cut -cie: ak, mies); not życie: zyt
    if folded.endswith("cie") and (len(before_cie) >= 4 or len(before_cie) == 3 and before_cie[1] not in "aeiouy"):
        hard.add(before_cie)
    # Before a softened d, r or t the stem's a becomes e: sąsiad/sąsiedzie, wiara/wierze, powiat/powiecie.
    hard.update([_last_e_as_a(source) for source in hard if source.endswith(("d", "r", "t"))])
    if len(stem) >= 5 and stem.endswith(("ek", "ec")) and stem[-3] not in "aeiouy":
        hard.add(stem[:-2] + stem[-1])  # wniosek -> wniosk
    if len(stem) >= 5 and stem.endswith("iec"):
        hard.add(stem[:-3] + "c")  # chłopiec -> chłopc
    return hard


def _last_e_as_a(stem: str) -> str:
    """`stem` with the e of its last syllable read as a (powiet: powiat), or as it is."""
    last = stem.rfind("e")
    return stem[:last] + "a" + stem[last + 1:] if last > 0 and not set(stem[last + 1:]) & set("aeiouy") else stem


def _ukrainian_lemmas(word: str) -> set[str]:
    analyser = _morph_uk()
    lemmas: set[str] = set()
    word = word.translate(_ASCII_APOSTROPHE)  # the dictionary's: сім’я and сімʼя were unknown words, сім'я not
    for form in dict.fromkeys((word, fold(word))):
        # The first MAX_LEMMAS different lemmas: a form's parses often share one (олені: four parses of олень,
        # deer, before олена, the name Олена, which was left out).
        lemmas.update(list(dict.fromkeys(fold(parse.normal_form) for parse in analyser.parse(form)))[:MAX_LEMMAS])
    return lemmas


@functools.cache
def _snowball(algorithm: str):
    return snowballstemmer.stemmer(algorithm)


@functools.cache
def _morph_uk():
    import pymorphy3  # loaded only when Ukrainian text or queries need it

    return pymorphy3.MorphAnalyzer(lang="uk")


def _script(word: str) -> str:
    name = unicodedata.name(word[0], "")
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    if name.startswith("GREEK"):
        return "greek"
    return "latin"


def _script_of_language(code: str) -> str:
    if code in CYRILLIC_LANGUAGES:
        return "cyrillic"
    if code in GREEK_LANGUAGES:
        return "greek"
    return "latin"
