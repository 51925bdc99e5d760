# The Basirat application image: every process of docker-compose.yml runs it
# with its own command. Alone, it serves everything with the embedded
# warehouse:  docker run -p 8000:8000 -v basirat:/var/lib/basirat basirat
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY warehouse warehouse
COPY collector collector
COPY matching matching
COPY recommender recommender
COPY mining mining
COPY activation activation
COPY webapp webapp
COPY storefront storefront
COPY basirat basirat
RUN pip install . \
    && useradd --system --home-dir /var/lib/basirat --shell /usr/sbin/nologin basirat \
    && mkdir -p /var/lib/basirat/spool /var/lib/basirat/warehouse \
    && chown -R basirat:basirat /var/lib/basirat

USER basirat
ENV BASIRAT_WAREHOUSE_URL=chdb:///var/lib/basirat/warehouse \
    BASIRAT_SPOOL_DIR=/var/lib/basirat/spool
VOLUME ["/var/lib/basirat"]
EXPOSE 8000 8001 8002
CMD ["basirat", "serve", "--host", "0.0.0.0"]
