"""What only the Elasticsearch backend has: the alias swapped by a rebuild, bulk writes, its mapping, its errors.

Runs on osmem-server, and on a real cluster when RETRODIG_ES_URL is set (tests/search_backends.py). Where
osmem-server lacks what Elasticsearch has, the case is marked xfail(strict=True) on osmem only, so the real
cluster must pass it and osmem must keep failing it (a fixed osmem shows up as XPASS).
"""

from __future__ import annotations

import os
import socket

import pytest

from pipeline.backends.search import open_search
from pipeline.backends.search.analysis import QUERY_LANGUAGES
from pipeline.backends.search.elasticsearch import SearchServiceError
from pipeline.backends.search.elasticsearch_index import LANGUAGES, IndexLayout, index_body
from pipeline.backends.search.protocol import SearchQuery
from pipeline.errors import ExitCode, UsageError
from pipeline.options import EnvRef, SearchSettings

from .search_backends import (
    ELASTICSEARCH_BACKENDS, DisposableElasticsearch, client_for, settings_for, unique_index,
)
from .test_search_contract import doc, ids

ON_OSMEM = "elasticsearch"  # the backend name of the test server


@pytest.fixture(params=ELASTICSEARCH_BACKENDS)
def cluster(request):
    """(backend name, settings with a fresh alias, a client of our own to look behind the backend's back)."""
    settings = settings_for(request.param, unique_index())
    client = client_for(request.param, settings)
    yield request.param, settings, client
    leftovers = client.options(ignore_status=404).indices.get(index=f"{settings.index}*")
    if leftovers.meta.status == 200 and leftovers.body:
        client.indices.delete(index=",".join(leftovers.body))
    client.close()


@pytest.fixture
def backend(cluster):
    name, settings, client = cluster
    opened = DisposableElasticsearch(settings, client=client_for(name, settings))
    yield opened
    opened.close()


def aliased(client, alias: str) -> list[str]:
    return sorted(client.indices.get_alias(name=alias).body)


def physical_indices(client, alias: str) -> list[str]:
    return sorted(client.indices.get(index=f"{alias}-*").body)


def test_rebuild_swaps_the_alias_in_one_step_and_deletes_the_old_index(cluster, backend):
    _, settings, client = cluster
    backend.index_documents([doc("old", "registrul agricol vechi")])
    (old_index,) = aliased(client, settings.index)
    seen_during_rebuild = []

    def documents():
        yield doc("new-1", "registrul nou")
        # Halfway: the old index still answers under the alias, the new one is filled beside it.
        seen_during_rebuild.append((ids(backend.search(SearchQuery("registrul"))), aliased(client, settings.index),
                                    len(physical_indices(client, settings.index))))
        yield doc("new-2", "registrul de intrare")

    assert backend.rebuild(documents()) == 2
    assert seen_during_rebuild == [(["old"], [old_index], 2)]
    (new_index,) = aliased(client, settings.index)
    assert new_index != old_index and new_index.startswith(f"{settings.index}-")
    assert not client.indices.exists(index=old_index)
    assert physical_indices(client, settings.index) == [new_index]
    assert sorted(ids(backend.search(SearchQuery("registrul")))) == ["new-1", "new-2"]
    assert backend.document_ids() == {"new-1", "new-2"}


def test_a_failed_rebuild_leaves_the_old_index_serving(cluster, backend):
    _, settings, client = cluster
    backend.index_documents([doc("old", "registrul agricol")])
    before = aliased(client, settings.index)

    def documents():
        yield doc("new", "registrul nou")
        raise RuntimeError("the archive went away")

    with pytest.raises(RuntimeError):
        backend.rebuild(documents())
    assert aliased(client, settings.index) == before
    assert physical_indices(client, settings.index) == before  # the half-built index is gone
    assert ids(backend.search(SearchQuery("registrul"))) == ["old"]


def test_many_pages_go_in_bulk_and_are_searchable_at_once(backend):
    documents = [doc(f"reg-{number:04d}", f"Registrul stării civile, fila {number}", "Registrul, verso",
                     years=(1900 + number % 50,), collection=f"Fond {number % 3}")
                 for number in range(1200)]
    backend.index_documents(documents)
    assert len(backend.document_ids()) == 1200  # more than one page of the composite aggregation
    results = backend.search(SearchQuery("registrul", fuzzy=False, limit=5, offset=2395))
    assert results.total == 2400 and len(results.hits) == 5
    assert sum(facet.count for facet in results.facets["year"]) == 2400
    assert {facet.value: facet.count for facet in results.facets["collection"]} == {
        "Fond 0": 800, "Fond 1": 800, "Fond 2": 800}
    assert backend.rebuild(documents[:10]) == 10
    assert backend.search(SearchQuery("registrul")).total == 20


def test_a_replaced_document_loses_the_pages_it_no_longer_has(backend):
    backend.index_documents([doc("a", "prima pagină", "a doua pagină", "registrul pe a treia")])
    backend.index_documents([doc("a", "prima pagină, scanată din nou")])
    assert ids(backend.search(SearchQuery("registrul"))) == []
    assert [hit.page for hit in backend.search(SearchQuery("pagina")).hits] == [1]
    # The same id twice in one call: the later version wins, pages and all.
    backend.index_documents([doc("b", "registrul unu", "registrul doi"), doc("b", "registrul trei")])
    assert [(hit.document, hit.page) for hit in backend.search(SearchQuery("registrul")).hits] == [("b", 1)]


def test_a_page_of_hits_reaching_past_the_result_window_is_cut_there(backend):
    """`--offset 9990 --limit 20` was refused ("pages through the first 10000 hits only") on a search of 3 hits;
    the embedded index says there is nothing past the last hit."""
    backend.index_documents([doc(f"d{n}", "registrul agricol") for n in range(3)])
    past = backend.search(SearchQuery("registrul", offset=9990, limit=20))
    assert (past.total, past.hits) == (3, ())
    with pytest.raises(UsageError, match="first 10000 hits only"):
        backend.search(SearchQuery("registrul", offset=10000, limit=20))


def test_the_mapping_has_the_folded_field_and_a_field_per_analysed_language(cluster, backend):
    _, settings, client = cluster
    (index,) = aliased(client, settings.index)
    mapping = client.indices.get_mapping(index=index)[index]["mappings"]
    analysed = mapping["_meta"]["retrodig"]["languages"]
    assert set(analysed) <= set(QUERY_LANGUAGES) and {"rus", "deu", "eng"} <= set(analysed)
    assert mapping["properties"]["text"]["analyzer"] == "retrodig_folded"
    assert {code: field["analyzer"] for code, field in mapping["properties"]["lang"]["properties"].items()} == {
        code: LANGUAGES[code].analyzer for code in analysed}
    analysis = client.indices.get_settings(index=index)[index]["settings"]["index"]["analysis"]
    assert "ґ=>г" in analysis["char_filter"]["retrodig_letters"]["mappings"]
    # English is stemmed by Snowball's stemmer, as the embedded index stems it (the built-in analyzer's Porter
    # stemmer made May the Romanian mai): see test_english_words_are_stemmed_as_snowball_stems_them.
    assert mapping["properties"]["lang"]["properties"]["eng"]["analyzer"] == "retrodig_english"
    english = analysis["analyzer"]["retrodig_english"]
    assert [analysis["filter"].get(name, {}).get("language", name) for name in english["filter"]] == [
        "lowercase", "porter2"]


def test_every_language_is_analysed_by_elasticsearch(request, cluster, backend):
    name, settings, client = cluster
    if name == ON_OSMEM:
        request.applymarker(pytest.mark.xfail(strict=True, reason=(
            "osmem-server has no romanian and hungarian analyzers and no plugins (analysis-stempel, "
            "analysis-ukrainian): those languages fall back to retrodig's own stems")))
    (index,) = aliased(client, settings.index)
    assert client.indices.get_mapping(index=index)[index]["mappings"]["_meta"]["retrodig"]["languages"] == sorted(
        QUERY_LANGUAGES)


def test_letters_asciifolding_misses_are_folded_by_the_mapping_char_filter(request, cluster, backend):
    if cluster[0] == ON_OSMEM:
        request.applymarker(pytest.mark.xfail(strict=True, reason=(
            "osmem-server ignores `mapping` char filters (it warns and skips them)")))
    # Belarusian: no stemmer of ours, so only the folded field can match.
    backend.index_documents([doc("by", "Ґудзь Йосіф, вёска Ўзда", languages=("bel",))])
    for typed in ("гудзь", "иосіф", "веска", "узда"):
        assert ids(backend.search(SearchQuery(typed, fuzzy=False))) == ["by"], typed


def test_latin_letters_are_folded_by_asciifolding(backend):
    backend.index_documents([doc("pl", "Łódź, Świętokrzyska", languages=("bel",)),
                             doc("ro", "Şedinţa în ședința", languages=("bel",))])
    assert ids(backend.search(SearchQuery("lodz swietokrzyska", fuzzy=False))) == ["pl"]
    assert ids(backend.search(SearchQuery("sedinta", fuzzy=False))) == ["ro"]


def test_languages_the_cluster_cannot_analyse_fall_back_to_retrodigs_stems(cluster):
    name, settings, client = cluster
    # As if the cluster lacked Romanian (and the plugins): an index made without them, as the backend makes one.
    body = index_body(["deu", "eng", "rus"])
    client.indices.create(index=f"{settings.index}-1", aliases={settings.index: {}}, **body)
    backend = DisposableElasticsearch(settings, client=client_for(name, settings))
    try:
        assert "ron" in backend._layout.keyed_languages
        backend.index_documents([doc("ro", "Primăria municipiului")])
        assert ids(backend.search(SearchQuery("primariei", fuzzy=False))) == ["ro"]
        assert backend.search(SearchQuery("primariei", fuzzy=False)).hits[0].matches == ("Primăria",)
    finally:
        backend.close()


def test_an_index_of_another_version_is_refused_until_rebuilt(cluster):
    name, settings, client = cluster
    body = index_body(["deu", "eng", "rus"])
    body["mappings"]["_meta"]["retrodig"]["version"] = 0
    client.indices.create(index=f"{settings.index}-0", aliases={settings.index: {}}, **body)
    backend = DisposableElasticsearch(settings, client=client_for(name, settings))
    try:
        with pytest.raises(SearchServiceError, match="reindex"):
            backend.search(SearchQuery("registrul"))
        backend.rebuild([doc("a", "registrul")])
        assert ids(backend.search(SearchQuery("registrul"))) == ["a"]
    finally:
        backend.close()


def test_a_lost_index_beside_documents_is_refused_not_made_again_empty(cluster, tmp_path, monkeypatch):
    """A search.index typed wrong, a cluster wiped, a backend switched without a reindex: the alias was made again,
    empty, and every search answered "no hits" (exit 0) while the embedded backend said to reindex (exit 7)."""
    name, settings, client = cluster
    monkeypatch.setattr("pipeline.backends.search.elasticsearch.connect", lambda given: client_for(name, given))
    record = tmp_path / "documents" / "0123456789abcdef" / "document.json"
    record.parent.mkdir(parents=True)
    record.write_text("{}")
    backend = open_search(tmp_path, settings)
    try:
        assert backend.needs_rebuild and aliased_or_none(client, settings.index) is None
        with pytest.raises(SearchServiceError, match="missing") as refused:
            backend.search(SearchQuery("registrul"))
        assert refused.value.exit_code == ExitCode.archive_unavailable
        backend.rebuild([doc("a", "registrul")])
        assert ids(backend.search(SearchQuery("registrul"))) == ["a"] and not backend.needs_rebuild
    finally:
        backend.close()
    # An archive with no documents yet makes its index on first use, as before.
    fresh = open_search(tmp_path / "new", settings_for(name, unique_index()))
    try:
        assert not fresh.needs_rebuild and fresh.search(SearchQuery("registrul")).total == 0
    finally:
        client.indices.delete(index=",".join(aliased(client, fresh.alias)))
        fresh.close()


def aliased_or_none(client, alias: str) -> list[str] | None:
    response = client.options(ignore_status=404).indices.get_alias(name=alias)
    return None if response.meta.status == 404 else sorted(response.body)


def test_an_index_with_the_alias_name_is_refused(cluster):
    name, settings, client = cluster
    client.indices.create(index=settings.index)
    with pytest.raises(SearchServiceError, match=f"index named {settings.index}"):
        DisposableElasticsearch(settings, client=client_for(name, settings))


# --- settings and errors, without a server ---------------------------------------------------------

@pytest.fixture
def nothing_listening() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_refused_connection_is_a_typed_error_naming_the_url(nothing_listening, tmp_path):
    settings = SearchSettings(backend="elasticsearch", url=nothing_listening, timeout=2)
    with pytest.raises(SearchServiceError, match=f"cannot reach Elasticsearch at {nothing_listening}") as error:
        open_search(tmp_path, settings)
    assert error.value.exit_code == ExitCode.archive_unavailable


def test_the_cli_reports_an_unreachable_server_without_a_traceback(nothing_listening, archive_dir, tmp_path,
                                                                    monkeypatch, run_cli):
    from pipeline.archive import Archive

    Archive(archive_dir).create()
    config = tmp_path / "retrodig.yaml"
    config.write_text(f"search:\n  backend: elasticsearch\n  url: {nothing_listening}\n  timeout: 2\n")
    monkeypatch.setenv("RETRODIG_CONFIG", str(config))
    result = run_cli("search", "primaria")
    assert result.exit_code == ExitCode.archive_unavailable
    assert nothing_listening in result.stderr and "Traceback" not in result.stderr


def test_reindex_against_an_unreachable_server_says_so_in_one_line(nothing_listening, archive_dir, tmp_path):
    """The client's and urllib3's own retry warnings came with six tracebacks (112 lines) before our message."""
    import subprocess
    import sys

    from pipeline.archive import Archive

    from .conftest import REPO

    Archive(archive_dir).create()
    config = tmp_path / "retrodig.yaml"
    config.write_text(f"search:\n  backend: elasticsearch\n  url: {nothing_listening}\n  timeout: 2\n")
    result = subprocess.run([sys.executable, "-m", "cli.main", "--archive", str(archive_dir), "reindex"], cwd=REPO,
                            env={**os.environ, "RETRODIG_CONFIG": str(config)}, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == ExitCode.archive_unavailable
    assert result.stderr.count("\n") == 1 and nothing_listening in result.stderr, result.stderr


def test_credentials_come_from_the_environment_and_go_together(monkeypatch, nothing_listening):
    from pipeline.backends.search.elasticsearch import connect

    monkeypatch.setenv("TEST_ES_PASSWORD", "s3cret")
    client = connect(SearchSettings(backend="elasticsearch", url=nothing_listening, username="retrodig",
                                    password=EnvRef(env="TEST_ES_PASSWORD")))
    assert client._headers["authorization"].startswith("Basic ")  # the client keeps it as a default header
    client.close()
    with pytest.raises(UsageError, match="go together"):
        connect(SearchSettings(backend="elasticsearch", url=nothing_listening, username="retrodig"))
    monkeypatch.delenv("TEST_ES_PASSWORD")
    with pytest.raises(UsageError, match="TEST_ES_PASSWORD"):
        connect(SearchSettings(backend="elasticsearch", url=nothing_listening, username="retrodig",
                               password=EnvRef(env="TEST_ES_PASSWORD")))


def test_every_query_language_has_an_elasticsearch_analyzer():
    assert set(LANGUAGES) == set(QUERY_LANGUAGES)


def test_romanian_and_polish_keys_are_indexed_beside_the_clusters_own_analyzers():
    # A cluster with the romanian analyzer and analysis-stempel stemmed those two itself, and found less than the
    # embedded index: hotărâre/hotărârile, rada/radzie are apart in Snowball and Stempel alike.
    layout = IndexLayout(version=3, languages=("ron", "pol", "rus", "deu", "eng", "hun", "ukr"))
    assert layout.keyed_languages == ("ron", "pol")
    assert set(IndexLayout(version=3, languages=("rus", "deu", "eng")).keyed_languages) == {"ron", "pol", "ukr", "hun"}


def test_an_ingest_that_cannot_reach_its_index_leaves_no_run_to_be_taken_for_killed(nothing_listening, archive_dir,
                                                                                    tmp_path, monkeypatch, run_cli):
    """The run's progress file stayed behind when the index could not be opened, and the next ingest filed it as a
    second report of the same run, `killed` (the portal listed the run twice)."""
    from .conftest import SAMPLES

    config = tmp_path / "retrodig.yaml"
    config.write_text(f"search:\n  backend: elasticsearch\n  url: {nothing_listening}\n  timeout: 2\n")
    monkeypatch.setenv("RETRODIG_CONFIG", str(config))
    result = run_cli("ingest", str(SAMPLES / "phototest.tif"))
    assert result.exit_code == ExitCode.archive_unavailable, result.output
    runs = archive_dir / "runs"
    assert [report.name for report in runs.iterdir() if report.name.startswith("in-progress-")] == []
    assert len(list(runs.glob("*.json"))) == 1  # the run's own report, stopped by the error
