"""Test support: a real server in a subprocess, a real Chromium, and the CI rule on skips."""
