"""Print the PostgreSQL URL the history tests also run on, when that server answers within
a second (nothing otherwise). `make test` sets NOTIFIER_TEST_DATABASE_URL from it."""

from __future__ import annotations

import psycopg

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    try:
        psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres",
                        connect_timeout=1).close()  # fmt: skip
    except psycopg.Error:
        return
    print(URL)


if __name__ == "__main__":
    main()
