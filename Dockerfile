FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY notifier ./notifier
COPY workers ./workers
RUN pip install --no-cache-dir .
COPY config ./config
# The data dir is a volume in docker-compose.yml; made here so the volume is ours to write.
RUN useradd --create-home notifier && install -d -o notifier /var/lib/notifier
USER notifier
ENV NOTIFIER_DATA_DIR=/var/lib/notifier
CMD ["notifier", "run"]
