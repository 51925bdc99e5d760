FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY basirat basirat
COPY warehouse warehouse
COPY collector collector
COPY recommender recommender
COPY webapp webapp
RUN pip install --no-cache-dir . && useradd --system --home /app basirat && mkdir -p /var/lib/basirat && chown basirat /var/lib/basirat
USER basirat
ENV BASIRAT_SPOOL_DIR=/var/lib/basirat/spool
EXPOSE 8000
CMD ["basirat", "serve", "--host", "0.0.0.0"]
