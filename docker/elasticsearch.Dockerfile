# Elasticsearch with the analysis plugins retrodig's mapping uses (see pipeline/backends/search/elasticsearch_index.py):
#   analysis-stempel    the `polish` analyzer (Stempel stemmer)
#   analysis-ukrainian  the `ukrainian` analyzer (Morfologik dictionary lemmas)
#   analysis-icu        ICU tokenizer and folding, for ad-hoc analysis; retrodig's mapping does not need it
# Without the first two, retrodig still works: it stems Polish and Ukrainian itself (and logs a warning).
# Plugins must match the server version exactly; elasticsearch-plugin picks the matching release.
ARG ELASTIC_VERSION=9.5.4
FROM docker.elastic.co/elasticsearch/elasticsearch:${ELASTIC_VERSION}

RUN bin/elasticsearch-plugin install --batch analysis-stempel analysis-ukrainian analysis-icu
