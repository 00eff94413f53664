"""The search backends the contract tests run against, and how each is opened for a test.

  embedded               the Tantivy index, in the test's folder
  elasticsearch          ElasticsearchSearch against osmem-server: an in-memory, OpenSearch-compatible server
                         speaking the REST API over real HTTP, started once per test session (it stops when
                         the session ends, or when this process dies: it watches its parent's pid)
  elasticsearch-cluster  against a real cluster, only when RETRODIG_ES_URL is set; credentials from
                         RETRODIG_ES_USERNAME / RETRODIG_ES_PASSWORD or RETRODIG_ES_API_KEY, a CA file from
                         RETRODIG_ES_CA_CERTS (e.g. docker compose's, see docker/README.md)

Each Elasticsearch backend gets an alias (and so an index) of its own, deleted again by `close()`.
"""

from __future__ import annotations

import atexit
import functools
import os
import uuid
from pathlib import Path

from elastic_transport import Urllib3HttpNode

from pipeline.backends.search import EmbeddedSearch
from pipeline.backends.search.elasticsearch import ElasticsearchSearch, connect
from pipeline.options import EnvRef, SearchSettings

CLUSTER_URL = os.environ.get("RETRODIG_ES_URL")
BACKENDS = ["embedded", "elasticsearch"] + (["elasticsearch-cluster"] if CLUSTER_URL else [])
ELASTICSEARCH_BACKENDS = [name for name in BACKENDS if name.startswith("elasticsearch")]


class PlainJsonNode(Urllib3HttpNode):
    """Sends `application/json` where the Elasticsearch client sends its versioned media type.

    The official client asks for `application/vnd.elasticsearch+json; compatible-with=9`, which only
    Elasticsearch understands; osmem-server answers 406. For the test server only: product code talks to
    Elasticsearch as the client does.
    """

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):
        if headers:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                if name in headers:
                    headers[name] = _plain(headers[name])
        return super().perform_request(method, target, body=body, headers=headers, request_timeout=request_timeout)


def _plain(media_type: str) -> str:
    return ", ".join(part.split(";")[0].replace("vnd.elasticsearch+", "").strip()
                     for part in media_type.split(","))


@functools.cache
def osmem_url() -> str:
    """Start osmem-server once for this process (the first time an Elasticsearch backend is opened)."""
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False)
    atexit.register(server.close)
    return server.url


def settings_for(name: str, index: str) -> SearchSettings:
    if name == "elasticsearch":
        return SearchSettings(backend="elasticsearch", url=osmem_url(), index=index)
    secrets = {field: EnvRef(env=f"RETRODIG_ES_{field.upper()}")
               for field in ("username", "password", "api_key") if os.environ.get(f"RETRODIG_ES_{field.upper()}")}
    return SearchSettings(backend="elasticsearch", url=CLUSTER_URL, index=index,
                          ca_certs=os.environ.get("RETRODIG_ES_CA_CERTS"), **secrets)


def client_for(name: str, settings: SearchSettings):
    return connect(settings, node_class=PlainJsonNode) if name == "elasticsearch" else connect(settings)


class DisposableElasticsearch(ElasticsearchSearch):
    """An Elasticsearch backend that deletes its alias's indices when closed, so tests leave no trace."""

    def close(self) -> None:
        try:
            indices = self._aliased_indices()
            if indices:
                self._client.indices.delete(index=",".join(indices))
        finally:
            super().close()
            self._client.close()  # the test's own client (see client_for)


def unique_index() -> str:
    return f"retrodig-test-{uuid.uuid4().hex[:12]}"


def open_backend(name: str, folder: Path):
    if name == "embedded":
        return EmbeddedSearch(folder / "search")
    if name in ("elasticsearch", "elasticsearch-cluster"):
        settings = settings_for(name, unique_index())
        return DisposableElasticsearch(settings, client=client_for(name, settings))
    raise ValueError(name)
