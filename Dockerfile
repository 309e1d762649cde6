FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY notifier ./notifier
COPY workers ./workers
RUN pip install --no-cache-dir .
COPY config ./config
RUN useradd --create-home notifier
USER notifier
ENV NOTIFIER_DATA_DIR=/tmp/notifier
CMD ["notifier", "run"]
