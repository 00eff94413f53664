"""The embedded (Tantivy) search backend and the folding it relies on, on real index folders."""

from __future__ import annotations

import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest

from pipeline.backends.search import EmbeddedSearch, open_search
from pipeline.backends.search import embedded as embedded_module
from pipeline.backends.search.query import WordMatcher, parse_query
from pipeline.backends.search.snippets import make_snippet
from pipeline.backends.search.folding import fold, words
from pipeline.backends.search.protocol import IndexedDocument, IndexedPage, SearchQuery
from pipeline.errors import ArchiveError, UsageError


def doc(doc_id, *pages, collection="primarie", doc_type="permit", languages=("ron",), years=(1931,),
        title="", source=None):
    return IndexedDocument(
        id=doc_id, collection=collection, title=title or f"title {doc_id}", doc_type=doc_type,
        languages=tuple(languages), years=tuple(years), source=source or f"/scans/{doc_id}.tif",
        pages=tuple(IndexedPage(number, text) for number, text in enumerate(pages, start=1)),
    )


@pytest.fixture
def index(tmp_path):
    backend = EmbeddedSearch(tmp_path / "index" / "search")
    yield backend
    backend.close()


def found(backend, text, **filters):
    """(document, page) of every hit, best first."""
    results = backend.search(SearchQuery(text, **filters))
    return [(hit.document, hit.page) for hit in results.hits]


# --- folding -------------------------------------------------------------------------

@pytest.mark.parametrize("typed, printed", [
    ("primaria", "Primăria"), ("urzad", "Urząd"), ("lodz", "Łódź"), ("imputernicire", "Împuternicire"),
    ("strasse", "Straße"), ("gudz", "Gudź"),
    ("oeuvre", "Œuvre"), ("dorde", "Đorđe"), ("sogn", "Søgn"), ("istanbul", "ıstanbul"),
    ("елка", "Ёлка"), ("іжак", "Їжак"), ("иод", "Йод"), ("aesir", "Æsir"), ("hamrun", "Ħamrun"),
])
def test_fold_drops_diacritics_and_case(typed, printed):
    assert fold(printed) == typed


def test_fold_ukrainian_ghe_with_upturn_matches_plain_ghe():
    assert fold("ґудзь") == fold("гудзь") == "гудзь"
    assert fold("Ґанок") == "ганок"


def test_fold_both_romanian_comma_and_cedilla_forms():
    # ş/ţ (cedilla, old keyboards and OCR) and ș/ț (comma below, correct) must meet.
    assert fold("şţŞŢ") == fold("șțȘȚ") == "stst"


def test_fold_handles_decomposed_input():
    assert fold("Prima\u0306ria") == "primaria"


def test_words_split_on_non_letters_and_keep_decomposed_words_whole():
    assert words("Primăria, m'ясо 2019-10 title:x foo_bar Prima\u0306ria") == [
        "primăria", "m", "ясо", "2019", "10", "title", "x", "foo", "bar", "prima\u0306ria"]


# --- matching across spellings -------------------------------------------------------

def test_search_ignores_diacritics_on_both_sides(index):
    index.index_documents([
        doc("ro", "Autorizație emisă de Primăria orașului Cluj"),
        doc("pl", "Urząd Miejski w Łodzi, ul. Piotrkowska, Łódź"),
        doc("uk", "Ґудзь Іван, мешканець"),
        doc("ru", "Гудзь Петро"),
    ])
    assert found(index, "primaria") == [("ro", 1)]
    assert found(index, "PRIMĂRIA") == [("ro", 1)]
    assert found(index, "urzad") == [("pl", 1)]
    assert found(index, "lodz") == [("pl", 1)]
    assert sorted(found(index, "гудзь")) == [("ru", 1), ("uk", 1)]
    assert sorted(found(index, "ґудзь")) == [("ru", 1), ("uk", 1)]


def test_romanian_cedilla_and_comma_spellings_find_each_other(index):
    index.index_documents([doc("cedilla", "Primăria sectorului 3, strada Ştefan"),
                           doc("comma", "Primăria sectorului 4, strada Ștefan")])
    assert sorted(found(index, "ştefan")) == [("cedilla", 1), ("comma", 1)]
    assert sorted(found(index, "ștefan")) == [("cedilla", 1), ("comma", 1)]
    assert sorted(found(index, "sectorului")) == [("cedilla", 1), ("comma", 1)]


def test_every_word_must_match_and_hits_are_per_page(index):
    index.index_documents([doc("a", "registrul de intrare", "registrul de ieșire", "altceva")])
    assert sorted(found(index, "registrul")) == [("a", 1), ("a", 2)]
    assert found(index, "registrul iesire") == [("a", 2)]
    results = index.search(SearchQuery("registrul"))
    assert results.total == 2
    assert all(hit.score > 0 for hit in results.hits)


def test_better_match_scores_higher(index):
    index.index_documents([doc("often", "taxa taxa taxa taxa impozit"),
                           doc("once", "taxa impozit cladire teren strada numar ora")])
    hits = index.search(SearchQuery("taxa")).hits
    assert [hit.document for hit in hits] == ["often", "once"]
    assert hits[0].score > hits[1].score


def test_phrase_search_needs_the_words_together(index):
    index.index_documents([
        doc("phrase", "S-a eliberat autorizație de construire pentru imobil"),
        doc("apart", "construire de garaj fără autorizație"),
    ])
    assert found(index, '"autorizatie de construire"') == [("phrase", 1)]
    assert sorted(found(index, "autorizatie construire")) == [("apart", 1), ("phrase", 1)]


def test_prefix_only_as_suffix_of_a_word(index):
    index.index_documents([doc("a", "Împuternicire notarială"), doc("b", "anul 1931")])
    assert found(index, "imputern*") == [("a", 1)]
    assert found(index, "Împutern*") == [("a", 1)]
    assert found(index, "imput") == []  # no star, no prefix (a longer cut may equal the stem, and match)
    assert found(index, "193*") == [("b", 1)]  # digits too: a decade (the star was ignored, 193 a whole word)
    assert found(index, "194*") == []
    assert found(index, "*imputernicire") == [("a", 1)]


def test_limit_offset_and_total(index):
    index.index_documents([doc(f"d{n}", "cerere") for n in range(5)])
    first = index.search(SearchQuery("cerere", limit=2))
    rest = index.search(SearchQuery("cerere", limit=10, offset=2))
    assert first.total == rest.total == 5
    assert len(first.hits) == 2 and len(rest.hits) == 3
    assert {h.document for h in first.hits} | {h.document for h in rest.hits} == {f"d{n}" for n in range(5)}
    assert index.search(SearchQuery("cerere", limit=0)).total == 5


def test_negative_limit_is_a_usage_error():
    with pytest.raises(UsageError):
        SearchQuery("x", limit=-1)


# --- filters -------------------------------------------------------------------------

@pytest.fixture
def filtered(index):
    index.index_documents([
        doc("ro1931", "registru", collection="cluj", doc_type="permit", languages=("ron",), years=(1931,)),
        doc("pl1925", "registru", collection="lodz", doc_type="letter", languages=("pol", "deu"), years=(1920, 1925)),
        doc("hu1899", "registru", collection="cluj", doc_type="letter", languages=("hun",), years=(1899,)),
        doc("undated", "registru", collection="cluj", doc_type="permit", languages=("ron",), years=()),
    ])
    return index


def ids(backend, **filters):
    return sorted(document for document, _ in found(backend, "registru", **filters))


def test_filter_collection_and_doc_type(filtered):
    assert ids(filtered, collection="lodz") == ["pl1925"]
    assert ids(filtered, collection="cluj", doc_type="letter") == ["hu1899"]
    assert ids(filtered, doc_type="nothing") == []


def test_filter_language_is_any_of_the_documents_languages(filtered):
    assert ids(filtered, language="deu") == ["pl1925"]
    assert ids(filtered, language="pol") == ["pl1925"]
    assert ids(filtered, language="ron") == ["ro1931", "undated"]
    with pytest.raises(UsageError, match="'po' is not a Tesseract language code"):  # whole codes only, and
        ids(filtered, language="po")  # one that is none is said to be none (found nothing: exit 0, not 2)


def test_filter_year_range_matches_any_year_and_excludes_undated(filtered):
    assert ids(filtered) == ["hu1899", "pl1925", "ro1931", "undated"]
    assert ids(filtered, year_from=1921, year_to=1930) == ["pl1925"]
    assert ids(filtered, year_from=1900, year_to=1920) == ["pl1925"]
    assert ids(filtered, year_from=1926) == ["ro1931"]
    assert ids(filtered, year_to=1900) == ["hu1899"]
    assert ids(filtered, year_from=1931, year_to=1931) == ["ro1931"]


# --- writing -------------------------------------------------------------------------

def test_indexing_the_same_id_again_replaces_it(index):
    index.index_documents([doc("x", "prima versiune", "pagina doi")])
    index.index_documents([doc("x", "a doua versiune", collection="other")])
    assert found(index, "versiune") == [("x", 1)]
    assert found(index, "prima") == []
    assert found(index, "pagina") == []
    assert index.search(SearchQuery("versiune")).hits[0].collection == "other"
    assert index.document_ids() == {"x"}


def test_remove_document(index):
    index.index_documents([doc("keep", "cerere"), doc("drop", "cerere")])
    index.remove_document("drop")
    index.remove_document("never-indexed")
    assert found(index, "cerere") == [("keep", 1)]
    assert not index.has_document("drop") and index.has_document("keep")
    assert index.document_ids() == {"keep"}


def test_index_documents_is_all_or_nothing(index):
    index.index_documents([doc("old", "cerere")])

    def broken_batch():
        yield doc("new1", "cerere")
        raise OSError("page text unreadable")

    with pytest.raises(OSError):
        index.index_documents(broken_batch())
    assert index.document_ids() == {"old"}
    assert found(index, "cerere") == [("old", 1)]


def test_index_survives_reopening(tmp_path):
    first = open_search(tmp_path)
    first.index_documents([doc("x", "Łódź")])
    first.close()
    second = open_search(tmp_path)
    try:
        assert found(second, "lodz") == [("x", 1)]
        assert (tmp_path / "index" / "search" / "CURRENT").is_file()
    finally:
        second.close()


def test_an_archive_on_a_read_only_file_system_can_be_searched(tmp_path):
    archive, mounted = tmp_path / "archive", tmp_path / "published"
    writer = open_search(archive)
    writer.index_documents([doc("x", "Łódź")])
    writer.close()
    mounted.mkdir()
    if subprocess.run(["mount", "--bind", "-o", "ro", str(archive), str(mounted)]).returncode != 0:
        pytest.skip("no read-only file system can be mounted here (a bind mount needs root's mount rights)")
    try:
        with pytest.raises(OSError):  # read-only indeed (older mount programs ignore ro on a first bind)
            (mounted / "probe").write_text("x")
        # Tantivy writes a lock file even to read: the search was refused, telling to run `retrodig reindex`.
        before = set(Path(tempfile.gettempdir()).glob("retrodig-index-*"))
        reader = open_search(mounted)
        try:
            assert found(reader, "lodz") == [("x", 1)]
        finally:
            reader.close()
        assert set(Path(tempfile.gettempdir()).glob("retrodig-index-*")) == before  # its links went with it
    finally:
        subprocess.run(["umount", str(mounted)], check=True)


def test_unknown_backend_in_the_configuration_is_a_usage_error(tmp_path):
    from click.testing import CliRunner

    from cli.main import cli
    from pipeline.errors import ExitCode

    (tmp_path / "retrodig.yaml").write_text("search:\n  backend: solr\n")
    result = CliRunner().invoke(cli, ["--archive", str(tmp_path), "search", "x"])
    assert result.exit_code == ExitCode.usage
    assert "search.backend" in result.stderr


@pytest.mark.parametrize("config, named", [
    (b"search: 5\n", "search"),  # each of these was an internal error
    (b"copies: [a, b]\n", "copies"),
    (b"search:\n  backend: elasticsearch\n  url: 'https://[::1'\n", "search.url"),
    (b"\xff\xfesearch: {}\n", "retrodig.yaml"),
    (b"cluster: inproc://x\n", "tcp://scheduler:8786"),
])
def test_a_bad_configuration_is_a_usage_error_naming_what(tmp_path, config, named):
    from click.testing import CliRunner

    from cli.main import cli
    from pipeline.errors import ExitCode

    (tmp_path / "retrodig.yaml").write_bytes(config)
    result = CliRunner().invoke(cli, ["--archive", str(tmp_path), "ingest", str(tmp_path / "none.tif")])
    assert result.exit_code == ExitCode.usage, result.output
    assert named in result.stderr


# --- rebuild -------------------------------------------------------------------------

def test_rebuild_replaces_the_whole_index(index):
    index.index_documents([doc("old", "conținut vechi")])
    count = index.rebuild(iter([doc("new1", "conținut nou"), doc("new2", "alt conținut nou")]))
    assert count == 2
    assert index.document_ids() == {"new1", "new2"}
    assert found(index, "vechi") == []
    assert sorted(found(index, "nou")) == [("new1", 1), ("new2", 1)]
    assert len([p for p in index.path.iterdir() if p.is_dir()]) == 1  # the old generation is gone
    index.index_documents([doc("later", "nou")])  # still writable after the swap
    assert len(found(index, "nou")) == 3


def test_rebuild_seen_by_a_new_reader(index):
    index.index_documents([doc("old", "vechi")])
    index.rebuild([doc("new", "nou")])
    reader = EmbeddedSearch(index.path)
    try:
        assert reader.document_ids() == {"new"}
    finally:
        reader.close()


def test_failed_rebuild_keeps_the_old_index(index):
    index.index_documents([doc("old", "vechi")])

    def broken():
        yield doc("new", "nou")
        raise OSError("disk")

    with pytest.raises(OSError):
        index.rebuild(broken())
    assert index.document_ids() == {"old"}
    assert len([p for p in index.path.iterdir() if p.is_dir()]) == 1  # the half-built generation is gone


def test_a_reader_open_during_a_rebuild_answers_from_the_new_index_next(index):
    index.index_documents([doc("old", "vechi")])
    reader = EmbeddedSearch(index.path)  # e.g. the portal, in another process
    try:
        assert found(reader, "vechi") == [("old", 1)]
        assert index.rebuild([doc("new", "nou")]) == 1
        assert found(reader, "nou") == [("new", 1)] and found(reader, "vechi") == []
    finally:
        reader.close()


def test_a_reader_sees_what_another_writer_commits(index):
    reader = EmbeddedSearch(index.path)
    try:
        assert found(reader, "cerere") == []
        index.index_documents([doc("x", "cerere")])
        assert found(reader, "cerere") == [("x", 1)]
    finally:
        reader.close()


def test_an_index_of_the_old_sqlite_kind_must_be_rebuilt(tmp_path):
    (tmp_path / "index").mkdir()
    sqlite3.connect(tmp_path / "index" / "search.sqlite").execute("CREATE TABLE documents (id TEXT)")
    backend = open_search(tmp_path)
    try:
        assert backend.needs_rebuild
        with pytest.raises(embedded_module.IndexOutdatedError):
            backend.search(SearchQuery("x"))
        assert backend.rebuild([doc("x", "cerere")]) == 1
        assert found(backend, "cerere") == [("x", 1)]
        assert not (tmp_path / "index" / "search.sqlite").exists()
    finally:
        backend.close()


# --- hostile input -------------------------------------------------------------------

HOSTILE = ['a OR b', 'title:x', '"unbalanced', '*', ')(', 'NEAR(a b)', '-a', '^a', 'a AND', 'NOT',
           '"', '""', '" "', 'a"b"c', '**', 'a**', "'", '{a b}:c', 'words:x', 'rowid', 'a + b',
           'x' * 2000, '\x00', '\ufeff', '💥', 'a*b*', '(((', 'OR', 'AND NOT OR']


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_query_never_raises(index, text):
    index.index_documents([doc("x", "a b c x title words near")])
    index.search(SearchQuery(text))


def test_operators_are_plain_words(index):
    index.index_documents([
        doc("alpha", "alpha"),
        doc("literal", "alpha or gamma"),
        doc("column", "title x"),
        doc("near", "near a b"),
        doc("minus", "alpha beta"),
    ])
    assert found(index, "alpha OR gamma") == [("literal", 1)]  # as an operator it would find "alpha" too
    assert found(index, "title:x") == [("column", 1)]
    assert found(index, "NEAR(a b)") == [("near", 1)]
    assert sorted(found(index, "alpha -beta")) == [("minus", 1)]  # "-" is no NOT


@pytest.mark.parametrize("text", ["*", ")(", '""', "   ", "-", ":"])
def test_query_without_words_gives_empty_results(index, text):
    index.index_documents([doc("x", "cerere")])
    results = index.search(SearchQuery(text))
    assert results.total == 0 and results.hits == ()


# --- snippets ------------------------------------------------------------------------

def test_snippet_marks_the_original_word(index):
    text = ("Subsemnatul Ion Popescu, domiciliat în strada Morii nr. 5, solicit autorizație "
            "de construire emisă de Primăria orașului Cluj pentru imobilul din strada Morii, "
            "anexând planul de situație și actul de proprietate.")
    index.index_documents([doc("x", text)])
    snippet = index.search(SearchQuery("primaria")).hits[0].snippet
    assert "[Primăria]" in snippet
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert "emisă de [Primăria] orașului" in snippet
    assert len(snippet) <= 200


def test_snippet_marks_prefix_and_phrase_words_and_keeps_polish_letters(index):
    index.index_documents([doc("x", "Urząd Miejski w Łodzi wydał zaświadczenie.\nŁódź, dnia 3 maja")])
    # Łodzi is an inflected form of Łódź: stemming marks it too.
    assert index.search(SearchQuery("lodz")).hits[0].snippet == "Urząd Miejski w [Łodzi] wydał zaświadczenie. [Łódź], dnia 3 maja"
    assert "[Urząd] [Miejski]" in index.search(SearchQuery('"urzad miejski"')).hits[0].snippet
    assert "[Łodzi]" in index.search(SearchQuery("lodz*")).hits[0].snippet


def test_snippet_shows_a_second_distant_match():
    is_match = WordMatcher(parse_query("alpha omega"), ())
    text = "alpha " + " ".join(f"w{n}" for n in range(40)) + " omega end"
    snippet = make_snippet(text, is_match)
    assert snippet.startswith("[alpha] w0")
    assert " … " in snippet and "[omega]" in snippet
    assert snippet.endswith("[omega] end")


def test_snippet_stays_short_with_long_words():
    is_match = WordMatcher(parse_query("needle"), ())
    text = " ".join(["x" * 40] * 5 + ["needle"] + ["y" * 40] * 30 + ["needle"])
    snippet = make_snippet(text, is_match)
    assert len(snippet) <= 200
    assert "[needle]" in snippet


def test_a_damaged_index_is_rebuilt_not_refused(tmp_path):
    """Files of the live index cut short: searching says to reindex, and reindexing (or the next ingest, which
    rebuilds an index that needs it) works, where it used to open the damaged index first and fail as well."""
    first = open_search(tmp_path)
    first.index_documents([doc("x", "Łódź")])
    first.close()
    live = tmp_path / "index" / "search" / (tmp_path / "index" / "search" / "CURRENT").read_text().strip()
    for store in live.glob("*.store"):
        store.write_bytes(store.read_bytes()[:10])
    damaged = open_search(tmp_path)
    try:
        assert damaged.needs_rebuild
        with pytest.raises(ArchiveError, match="unusable"):
            damaged.search(SearchQuery("lodz"))
        assert damaged.rebuild([doc("x", "Łódź"), doc("y", "Cluj")]) == 2
        assert found(damaged, "lodz") == [("x", 1)] and not damaged.needs_rebuild
    finally:
        damaged.close()


@pytest.mark.parametrize("kind", ["store", "term", "idx", "fast"])
def test_index_files_overwritten_in_their_middle_say_to_reindex(tmp_path, kind):
    """A quarter of a file of the live index overwritten (a failing disk): Tantivy failed to decode it or panicked
    in Rust, and the search ended as an internal error with a traceback, not as a damaged index with its cure."""
    import random

    first = open_search(tmp_path)
    first.index_documents([doc(f"d{n:02d}", f"Autorizație de construire nr. {n} Łódź Cluj-Napoca") for n in range(40)])
    first.close()
    live = tmp_path / "index" / "search" / (tmp_path / "index" / "search" / "CURRENT").read_text().strip()
    (damaged_file,) = live.glob(f"*.{kind}")
    data = bytearray(damaged_file.read_bytes())
    quarter = len(data) // 4
    data[quarter:2 * quarter] = random.Random(7).randbytes(quarter)
    damaged_file.write_bytes(bytes(data))
    damaged = open_search(tmp_path)
    try:
        with pytest.raises(ArchiveError, match="is damaged.*retrodig reindex"):
            for word in ("autorizatie", "lodz", "cluj", "construire"):
                damaged.search(SearchQuery(word))
        assert damaged.rebuild([doc("x", "Łódź")]) == 1
        assert found(damaged, "lodz") == [("x", 1)]
    finally:
        damaged.close()


def test_paging_past_a_million_hits_is_refused():
    """The embedded index sets aside memory for every hit it skips: 2^32 of them ended the process."""
    with pytest.raises(UsageError, match="narrow the search"):
        SearchQuery("x", offset=2**32)


def test_an_index_deleted_beside_documents_is_not_made_again_empty(tmp_path):
    """It answered "no hits" to every search, silently; now it says to reindex until it is rebuilt."""
    (tmp_path / "documents" / "0123456789abcdef").mkdir(parents=True)
    (tmp_path / "documents" / "0123456789abcdef" / "document.json").write_text("{}")
    for _ in range(2):  # the first refusal must not leave an empty index behind for the second
        lost = open_search(tmp_path)
        try:
            assert lost.needs_rebuild
            with pytest.raises(ArchiveError, match="reindex"):
                lost.search(SearchQuery("cerere"))
        finally:
            lost.close()
    rebuilt = open_search(tmp_path)
    try:
        rebuilt.rebuild([doc("d1", "cerere")])
        assert found(rebuilt, "cerere") == [("d1", 1)]
    finally:
        rebuilt.close()
    assert found_after_reopening(tmp_path) == [("d1", 1)]


def found_after_reopening(root):
    backend = open_search(root)
    try:
        return found(backend, "cerere")
    finally:
        backend.close()


def test_a_snippet_never_cuts_a_mark_in_half_and_shortens_fill_in_lines():
    """A form's dotted lines took the snippet's 200 characters, and its cut left "[Primă…": the portal showed a
    bare bracket and marked nothing."""
    text = "Subsemnatul " + "." * 85 + " domiciliat în " + "." * 40 + " strada " + "." * 20 + \
           " nr. 5 de la Primăria orașului Cluj"
    snippet = make_snippet(text, lambda word: word == "Primăria")
    assert "[Primăria]" in snippet and "....." not in snippet
    long = make_snippet("a" * 190 + " Primăria" * 3, lambda word: word == "Primăria")
    assert long.count("[") == long.count("]")

