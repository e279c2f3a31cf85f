"""The page around the apps: layout, shared components, error pages and the static assets."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
