from __future__ import annotations

import secrets
from pathlib import Path


def data_dir_secret_key(data_dir: Path) -> str:
    """Read the secret key kept in the data directory, creating it on first use."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key
