"""Botify for this Botifython project: an API client, the token store and the token command.

    from botify import BotifyClient, read_token
    token = read_token(settings.data_dir)          # None until `<project>-token set`
    async with BotifyClient(token) as botify:
        profile = await botify.profile()

The app's "Botify" page (plugins/botify_projects.py) is built on the same pieces.
"""

from .client import (
    ACCOUNT_URL,
    DEFAULT_BASE_URL,
    Analysis,
    BadAnswer,
    BotifyClient,
    BotifyError,
    BotifyNotFound,
    InvalidToken,
    Listing,
    Profile,
    Project,
    RateLimited,
    TokenRefused,
    Unreachable,
    check_base_url,
    check_token,
)
from .token_store import TokenStoreError, delete_token, read_token, save_token, secure_token_file, token_path

__all__ = [
    "ACCOUNT_URL",
    "DEFAULT_BASE_URL",
    "Analysis",
    "BadAnswer",
    "BotifyClient",
    "BotifyError",
    "BotifyNotFound",
    "InvalidToken",
    "Listing",
    "Profile",
    "Project",
    "RateLimited",
    "TokenRefused",
    "TokenStoreError",
    "Unreachable",
    "check_base_url",
    "check_token",
    "delete_token",
    "read_token",
    "save_token",
    "secure_token_file",
    "token_path",
]
