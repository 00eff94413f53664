"""Search served by an Elasticsearch cluster: the same queries and answers as the embedded index.

One Elasticsearch document per page (elasticsearch_index.py); queries are built from query.py's terms
(elasticsearch_query.py). The configured index name (`search.index`) is an alias: the data lives in
`<alias>-<UTC timestamp>` indices, so `rebuild` fills a new index while the old one serves, then moves the
alias in one `update_aliases` call and deletes the old index.

Pages found only through OCR-error tolerance rank below every exact or inflected match, as in the embedded
index: a boost alone cannot promise that, so the pages are fetched in two tiers (see `search`).
Every failure to talk to the cluster becomes a SearchServiceError naming the URL.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone

from elasticsearch import (
    ApiError, AuthenticationException, AuthorizationException, Elasticsearch, TransportError,
    UnsupportedProductError, helpers,
)

from ...errors import ArchiveError, IndexToRebuildError, UsageError
from ...options import SearchSettings, resolve_secret
from .analysis import analysed_languages
from .elasticsearch_index import (
    LANGUAGES, MAPPING_VERSION, IndexLayout, index_body, missing_analyzer, page_sources,
)
from .elasticsearch_query import (
    MATCHED, facet_aggregations, facet_counts, filters, highlight, highlighted_words, terms_query,
)
from .folding import fold, split_words
from .protocol import IndexedDocument, SearchHit, SearchQuery, SearchResults
from .query import QueryTerm, WordMatcher, parse_query
from .snippets import judged, marked_snippet

log = logging.getLogger(__name__)

BULK_PAGES = 250  # pages per bulk request: a few MB of text
BULK_BYTES = 20 * 1024 * 1024
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's default index.max_result_window
_HIT_FIELDS = ["document", "page", "text", "title", "collection", "doc_type", "source", "languages"]
_SORT = [{"_score": "desc"}, {"document": "asc"}, {"page": "asc"}]  # ties in a stable order (embedded: indexing order)


class SearchServiceError(ArchiveError):
    """The search server could not be reached, refused the credentials, or failed a request."""


class ServerIndexToRebuildError(SearchServiceError, IndexToRebuildError):
    """The index behind the alias cannot answer until it is rebuilt (see IndexToRebuildError)."""


def connect(settings: SearchSettings, **transport_options) -> Elasticsearch:
    """A client for `settings.url` with its credentials and TLS options.

    `transport_options` go to the client unchanged (tests use a node class for a test server).
    """
    username, password = resolve_secret(settings.username), resolve_secret(settings.password)
    if (username is None) != (password is None):
        raise UsageError("search.username and search.password go together: set both, or neither")
    options = dict(
        hosts=[settings.url], request_timeout=settings.timeout, max_retries=2, retry_on_timeout=True,
        verify_certs=settings.verify_certs, ca_certs=settings.ca_certs,
        basic_auth=(username, password) if username is not None else None,
        api_key=resolve_secret(settings.api_key),
    )
    if not settings.verify_certs:
        options["ssl_show_warn"] = False  # chosen in the configuration; one warning per request helps no one
    options.update(transport_options)
    try:
        return Elasticsearch(**{key: value for key, value in options.items() if value is not None})
    except ValueError as exc:  # the client's own checks: an URL it cannot parse, CA certificates over http
        raise UsageError(f"setting search.url ({settings.url}) in the configuration: {exc}") from exc


def _translating_errors(action: str):
    """Wrap a method so that whatever goes wrong on the wire becomes a SearchServiceError naming the URL."""

    def wrap(method):
        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            with _service_errors(self.url, action):
                return method(self, *args, **kwargs)

        return wrapped

    return wrap


@contextmanager
def _service_errors(url: str, action: str) -> Iterator[None]:
    try:
        yield
    except helpers.BulkIndexError as exc:
        raise SearchServiceError(f"Elasticsearch at {url} refused {len(exc.errors)} page(s) while {action}: "
                                 f"{_first_bulk_error(exc.errors)}") from exc
    except UnsupportedProductError as exc:
        raise SearchServiceError(f"the server at {url} is not Elasticsearch (search.url)") from exc
    except AuthenticationException as exc:
        raise SearchServiceError(f"Elasticsearch at {url} refused the credentials while {action}; "
                                 "check search.username/password or search.api_key") from exc
    except AuthorizationException as exc:
        raise SearchServiceError(f"Elasticsearch at {url} does not allow {action} with these credentials: "
                                 f"{_reason(exc)}") from exc
    except ApiError as exc:
        raise SearchServiceError(f"Elasticsearch at {url} failed {action}: {exc.status_code} {_reason(exc)}") from exc
    except TransportError as exc:
        raise SearchServiceError(f"cannot reach Elasticsearch at {url} while {action} ({exc.message}); "
                                 "is it running, and are search.url and its TLS settings right?") from exc


def _reason(exc: ApiError) -> str:
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    if isinstance(error, dict):
        cause = error.get("caused_by") or {}
        reason = error.get("reason") or error.get("type") or ""
        return f"{reason} ({cause['reason']})" if cause.get("reason") and cause["reason"] not in reason else reason
    return str(error or exc.message)


def _analyzer_name(code: str) -> str:
    spec = LANGUAGES[code]
    return f"{spec.analyzer} (plugin {spec.plugin})" if spec.plugin else spec.analyzer


def _first_bulk_error(errors: list) -> str:
    if not errors:
        return "no details"
    (_, item), = errors[0].items()
    error = item.get("error") or {}
    reason = error.get("reason", error) if isinstance(error, dict) else error
    return f"page {item.get('_id')}: {reason}"


class ElasticsearchSearch:
    """The SearchBackend kept in an Elasticsearch cluster, under the alias `settings.index`."""

    def __init__(self, settings: SearchSettings, client: Elasticsearch | None = None, lost: bool = False,
                 kept_elsewhere: str = ""):
        """`lost`: the archive has documents, so a missing alias is an index lost (deleted, a cluster wiped, a
        backend switched or search.index changed without a reindex), not one to create empty: it answered "no
        hits" to everything. Searching then refuses until a rebuild, as the embedded index does. So it does when
        the archive's ingests have indexed its documents elsewhere since (`kept_elsewhere`: the embedded index,
        another cluster or alias): this index lacks those."""
        self.url = settings.url
        self.alias = settings.index
        self._lost = lost
        self._kept_elsewhere = kept_elsewhere
        self._owns_client = client is None
        self._client = client if client is not None else connect(settings)
        try:
            self._layout = self._open()
        except BaseException:
            self.close()
            raise

    # --- the protocol -----------------------------------------------------------------------------------

    @_translating_errors("indexing")
    def index_documents(self, docs: Iterable[IndexedDocument]) -> None:
        """Write the pages, then delete what is left of earlier versions of the same documents.

        Not all or nothing, as in the embedded index: if writing fails halfway, earlier versions keep their pages (a page
        with the same number is already replaced), and indexing the documents again completes the work.
        """
        self._require_current_layout()
        batch = uuid.uuid4().hex
        written: dict[str, set[str]] = {}
        stale: set[str] = set()
        self._bulk(self._write_actions(self.alias, docs, batch, written, stale))
        # Refreshed first, so that delete_by_query sees the new pages (and skips them, by their batch).
        self._client.indices.refresh(index=self.alias)
        self._delete_older_pages(written, batch, stale)
        self._client.indices.refresh(index=self.alias)

    @_translating_errors("removing a document")
    def remove_document(self, doc_id: str) -> None:
        self._client.delete_by_query(index=self.alias, query={"term": {"document": doc_id}}, refresh=True,
                                     conflicts="proceed")

    @_translating_errors("looking up a document")
    def has_document(self, doc_id: str) -> bool:
        self._require_current_layout()
        return self._client.count(index=self.alias, query={"term": {"document": doc_id}})["count"] > 0

    @_translating_errors("listing documents")
    def document_ids(self) -> set[str]:
        """Every document id, paged through a composite aggregation (a terms aggregation has a size cap)."""
        self._require_current_layout()
        found: set[str] = set()
        after = None
        while True:
            composite = {"size": 1000, "sources": [{"id": {"terms": {"field": "document"}}}]}
            if after:
                composite["after"] = after
            response = self._client.search(index=self.alias, size=0, aggs={"ids": {"composite": composite}})
            buckets = response["aggregations"]["ids"]["buckets"]
            found.update(bucket["key"]["id"] for bucket in buckets)
            after = response["aggregations"]["ids"].get("after_key")
            if not buckets or not after:
                return found

    @_translating_errors("searching")
    def search(self, query: SearchQuery) -> SearchResults:
        """Exact and inflected matches first, then pages found only through OCR-error tolerance.

        One request returns the exact tier's page of hits (post_filter) with the facets and count of every
        matching page (aggregations see the whole query); a second fetches the fuzzy tier only when the
        requested page reaches into it.
        """
        self._require_current_layout()
        terms = parse_query(query.text)
        if not terms:
            return SearchResults(total=0, hits=())
        if query.offset >= MAX_RESULT_WINDOW:
            raise UsageError(f"Elasticsearch pages through the first {MAX_RESULT_WINDOW} hits only; "
                             "narrow the search with filters")
        # A page reaching past them is cut there (--offset 9990 --limit 20 was refused, even with 3 hits).
        query = replace(query, limit=min(query.limit, MAX_RESULT_WINDOW - query.offset))
        fuzzy = query.fuzzy and any(term.fuzzy_eligible() for term in terms)
        loose = self._filtered(terms_query(terms, self._layout, fuzzy), query)
        strict = terms_query(terms, self._layout, fuzzy=False) if fuzzy else None
        first = self._search_page(loose, query.offset, query.limit, post_filter=strict, aggregations=True)
        total = first["aggregations"][MATCHED]["doc_count"]
        if total == 0:
            return SearchResults(total=0, hits=(), facets={})
        hits = list(first["hits"]["hits"])
        exact_total = first["hits"]["total"]["value"]
        if strict is not None and len(hits) < query.limit and query.offset + len(hits) < total:
            fuzzy_only = {"bool": {"must": [loose], "must_not": [strict]}}
            rest = self._search_page(fuzzy_only, max(0, query.offset - exact_total), query.limit - len(hits))
            hits += rest["hits"]["hits"]
        matchers: dict[tuple[str, ...], WordMatcher] = {}  # one per language set: each remembers its words
        return SearchResults(total=total, hits=tuple(_hit(hit, terms, matchers) for hit in hits),
                             facets=facet_counts(first["aggregations"]))

    @_translating_errors("rebuilding the index")
    def rebuild(self, docs: Iterable[IndexedDocument]) -> int:
        """Fill a new index while the old one serves; then one alias update swaps them; then the old goes."""
        fresh, layout = self._create_index(bulk_load=True)
        try:
            written: dict[str, set[str]] = {}
            stale: set[str] = set()
            self._bulk(self._write_actions(fresh, docs, uuid.uuid4().hex, written, stale, layout))
            self._delete_pages(fresh, stale)
            # null restores the default interval, turned off for the bulk load.
            self._client.indices.put_settings(index=fresh, settings={"index": {"refresh_interval": None}})
            self._client.indices.refresh(index=fresh)
            old = self._aliased_indices()
            actions = [{"remove": {"index": index, "alias": self.alias}} for index in old]
            self._client.indices.update_aliases(actions=[*actions, {"add": {"index": fresh, "alias": self.alias}}])
        except BaseException:
            with _quietly():
                self._client.indices.delete(index=fresh)
            raise
        self._layout, self._lost, self._kept_elsewhere = layout, False, ""
        for index in old:
            self._client.indices.delete(index=index)
        return len(written)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    # --- the alias and its index ------------------------------------------------------------------------

    @_translating_errors("opening the index")
    def _open(self) -> IndexLayout:
        """The layout of the index behind the alias; the first use creates both."""
        indices = self._aliased_indices()
        if not indices:
            if self._client.indices.exists(index=self.alias):
                raise SearchServiceError(
                    f"Elasticsearch at {self.url} has an index named {self.alias}, but retrodig keeps that name "
                    "for an alias; delete or rename that index, or choose another search.index")
            if self._lost:
                return IndexLayout(MAPPING_VERSION, ())  # not used: nothing but `rebuild` works (see __init__)
            return self._create_index(with_alias=True)[1]
        self._lost = False
        mapping = self._client.indices.get_mapping(index=indices[0])[indices[0]]["mappings"]
        return IndexLayout.from_mapping(mapping)

    def _aliased_indices(self) -> list[str]:
        response = self._client.options(ignore_status=404).indices.get_alias(name=self.alias)
        if response.meta.status == 404:
            return []
        return sorted(index for index, entry in response.body.items() if self.alias in entry.get("aliases", {}))

    def _create_index(self, with_alias: bool = False, bulk_load: bool = False) -> tuple[str, IndexLayout]:
        """A new `<alias>-<timestamp>` index, with every language analyzer the cluster has.

        A cluster without a plugin (analysis-stempel, analysis-ukrainian) refuses a mapping that names its
        analyzer; the index is then created without that language's field, and analysis.py's keys for that
        language stand in (`keys`), so its inflected forms are still found. Said once, as a warning.
        """
        name = f"{self.alias}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S-%f}"
        languages = list(LANGUAGES)
        while True:
            body = index_body(languages)
            if bulk_load:
                body["settings"]["refresh_interval"] = "-1"
            try:
                self._client.indices.create(index=name, aliases={self.alias: {}} if with_alias else None, **body)
                break
            except ApiError as exc:
                missing = missing_analyzer(_reason(exc)) if exc.status_code == 400 else None
                if missing not in languages:
                    raise
                languages.remove(missing)
        if len(languages) < len(LANGUAGES):
            log.warning("Elasticsearch at %s lacks the analyzers %s: retrodig stems those languages itself",
                        self.url, ", ".join(_analyzer_name(code) for code in LANGUAGES if code not in languages))
        return name, IndexLayout(MAPPING_VERSION, tuple(sorted(languages)))

    @property
    def needs_rebuild(self) -> bool:
        """The index is lost, or was built by another retrodig: only `rebuild` (and `close`) will work."""
        return self._lost or bool(self._kept_elsewhere) or self._layout.version != MAPPING_VERSION

    def _require_current_layout(self) -> None:
        if self._lost:
            raise ServerIndexToRebuildError(f"the index {self.alias} at {self.url} is missing (the archive has "
                                            "documents); run `retrodig reindex`")
        if self._kept_elsewhere:
            raise ServerIndexToRebuildError(
                f"the archive's documents were last indexed in {self._kept_elsewhere}, not in the index "
                f"{self.alias} at {self.url}, which lacks what was indexed there: search there (search: in "
                "retrodig.yaml), or run `retrodig reindex` to rebuild this one")
        if self._layout.version != MAPPING_VERSION:
            raise ServerIndexToRebuildError(f"the index {self.alias} at {self.url} was built by another version "
                                            "of retrodig; run `retrodig reindex` to rebuild it")

    # --- writing ----------------------------------------------------------------------------------------

    def _write_actions(self, index: str, docs: Iterable[IndexedDocument], batch: str, written: dict[str, set[str]],
                       stale: set[str], layout: IndexLayout | None = None) -> Iterator[dict]:
        """Bulk actions for every page; notes each document's page ids, and the pages a repeated id dropped."""
        for doc in docs:
            pages = {}
            for page, source in page_sources(doc, layout or self._layout, batch):
                pages[page] = source
            # The same id twice in one call: the later version wins, the earlier one's extra pages go.
            stale.update(written.get(doc.id, set()).difference(pages))
            stale.difference_update(pages)
            written[doc.id] = set(pages)
            for page, source in pages.items():
                yield {"_index": index, "_id": page, "_source": source}

    def _bulk(self, actions: Iterable[dict], ignore_status: tuple[int, ...] = ()) -> None:
        """Send the actions in chunks; requests the cluster rejects as too many (429) are retried."""
        for _ in helpers.streaming_bulk(self._client, actions, chunk_size=BULK_PAGES, max_chunk_bytes=BULK_BYTES,
                                        max_retries=3, initial_backoff=1, ignore_status=ignore_status):
            pass

    def _delete_older_pages(self, written: dict[str, set[str]], batch: str, stale: set[str]) -> None:
        """Pages of the written documents that this batch did not write: left from a longer earlier version."""
        ids = sorted(written)
        for start in range(0, len(ids), 1000):
            self._client.delete_by_query(
                index=self.alias, conflicts="proceed", refresh=False,
                query={"bool": {"filter": [{"terms": {"document": ids[start:start + 1000]}}],
                                "must_not": [{"term": {"batch": batch}}]}})
        self._delete_pages(self.alias, stale)

    def _delete_pages(self, index: str, pages: Iterable[str]) -> None:
        actions = ({"_op_type": "delete", "_index": index, "_id": page} for page in sorted(pages))
        self._bulk(actions, ignore_status=(404,))  # already gone is as good as deleted

    # --- reading ----------------------------------------------------------------------------------------

    def _filtered(self, terms: dict, query: SearchQuery) -> dict:
        clauses = filters(query)
        return {"bool": {"must": [terms], "filter": clauses}} if clauses else terms

    def _search_page(self, query: dict, offset: int, limit: int, post_filter: dict | None = None,
                     aggregations: bool = False) -> dict:
        return self._client.search(
            index=self.alias, query=query, post_filter=post_filter,
            aggs=facet_aggregations() if aggregations else None, from_=offset, size=limit, sort=_SORT,
            highlight=highlight(self._layout), source_includes=_HIT_FIELDS, track_total_hits=True,
        ).body


def _hit(hit: dict, terms: list[QueryTerm], matchers: dict[tuple[str, ...], WordMatcher]) -> SearchHit:
    """A hit with its snippet, marking the words Elasticsearch matched and those query.py's rules match.

    The rules matter for languages retrodig stems itself (the `keys` field has no words to highlight); the
    highlights for the rest: Elasticsearch's stems and OCR-error matches, which query.py cannot know.
    """
    source = hit["_source"]
    marked = highlighted_words(hit.get("highlight") or {})
    languages = analysed_languages(source.get("languages") or ())
    rules = matchers.setdefault(languages, WordMatcher(terms, languages))

    def is_match(word: str) -> bool:
        folded = fold(word)
        return (folded in marked and not rules.only_in_phrases(folded)) or rules(word)

    pieces = split_words(source["text"])
    snippet, matches = marked_snippet(pieces, *rules.marks(pieces, judged(pieces, is_match)))
    return SearchHit(document=source["document"], source=source["source"], page=source["page"],
                     score=float(hit["_score"]), snippet=snippet, title=source["title"],
                     collection=source["collection"], doc_type=source["doc_type"], matches=matches)


@contextmanager
def _quietly() -> Iterator[None]:
    """For clean-up after a failure: the original error is the one to report."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - logged, and the original error is raised on
        log.warning("%s", exc)
