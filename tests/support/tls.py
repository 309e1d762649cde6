"""A throwaway certificate for TLS fakes (made here)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def self_signed_cert(directory: Path) -> tuple[Path, Path] | None:
    """A throwaway cert for 127.0.0.1/localhost via the openssl CLI, or None."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key
