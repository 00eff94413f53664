"""Tesseract's language codes and what they stand for elsewhere: one place for the pipeline's stages and the
search backends (which do not import the stages).

Tesseract names its models by ISO 639-3 codes, except a few named for a typeface rather than a language
(`frk`: German in Fraktur type). A PDF's /Lang (BCP 47) and dateparser take two-letter ISO 639-1 codes; the
short list of languages these archives hold is written out, and a code not in it is left out rather than guessed.
"""

from __future__ import annotations

import re

ROMANIAN = "ron"  # Tesseract's code for Romanian
TESSERACT_CODE = re.compile(r"^[a-z]{3}(_[a-z]+)?$")  # ron, deu, chi_sim: the form of Tesseract's language codes
# Romanian's ș and ț with the comma below, as Romanian writes them, for the cedilla's ş and ţ that fonts and
# keyboards long put in their place (stages.orthography), and back (an archive may hold either).
CEDILLA_TO_COMMA = str.maketrans("şŞţŢ", "șȘțȚ")
COMMA_TO_CEDILLA = str.maketrans("șȘțȚ", "şŞţŢ")
# The language models Tesseract's project publishes (tessdata), as Debian packages them (tesseract-ocr-<code>,
# "_" written "-"): a code outside this list is no language Tesseract knows, unless the user trained it himself.
DEBIAN_LANGUAGE_MODELS = frozenset("""
    afr amh ara asm aze aze_cyrl bel ben bod bos bre bul cat ceb ces chi_sim chi_sim_vert chi_tra chi_tra_vert chr
    cos cym dan deu div dzo ell eng enm epo est eus fao fas fil fin fra frk frm fry gla gle glg grc guj hat heb hin
    hrv hun hye iku ind isl ita ita_old jav jpn jpn_vert kan kat kat_old kaz khm kir kmr kor kor_vert lao lat lav
    lit ltz mal mar mkd mlt mon mri msa mya nep nld nor oci ori osd pan pol por pus que ron rus san sin slk slv snd
    spa spa_old sqi srp srp_latn sun swa swe syr tam tat tel tgk tha tir ton tur uig ukr urd uzb uzb_cyrl vie yid
    yor""".split())
FRAKTUR_MODELS = {"frk": "deu"}  # a Fraktur model -> the language it reads (Debian ships one: German)
TWO_LETTER_CODES = {
    "ron": "ro", "pol": "pl", "ukr": "uk", "rus": "ru", "hun": "hu", "deu": "de", "eng": "en",
    "fra": "fr", "ita": "it", "spa": "es", "ces": "cs", "slk": "sk", "nld": "nl", "bul": "bg", "srp": "sr",
    "hrv": "hr", "slv": "sl", "bel": "be", "lit": "lt", "lav": "lv", "est": "et", "fin": "fi", "swe": "sv",
    "dan": "da", "nor": "nb", "por": "pt", "tur": "tr", "heb": "he", "yid": "yi",
}
TWO_LETTER_CODES |= {model: TWO_LETTER_CODES[language] for model, language in FRAKTUR_MODELS.items()}


def language_of_model(code: str) -> str:
    """The language a Tesseract model reads: `deu` for `frk`, the code itself for a language's model."""
    return FRAKTUR_MODELS.get(code, code)
