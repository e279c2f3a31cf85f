"""The Botifython variant's own code, from templates/variant/: the Botify API client, the token
store, the token command and the Botify page, against a fake Botify API on 127.0.0.1
(tests/support/fake_botify.py). No request leaves this machine.

The files are used as `pipulate new botifython` would lay them out (their templated names
rendered by hand, none of them is a .jinja template), so these tests need neither copier nor a
generated project. The token must never show: not in a log line (httpx, httpcore, botify and
pipulate at DEBUG), an exception message, a repr, the command's output or the page's HTML.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from pipulate import Settings, create_app
from tests.support.cli import clean_env
from tests.support.fake_botify import USERNAME, VALID_TOKEN, FakeBotify
from tests.support.timing import scaled

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "variant"
ONLY_BOTIFYTHON = "{% if variant == 'botifython' %}NAME{% endif %}"
PACKAGE = TEMPLATE / ONLY_BOTIFYTHON.replace("NAME", "botify")
PLUGIN = TEMPLATE / "plugins" / ONLY_BOTIFYTHON.replace("NAME", "botify_projects.py")
VARIANT_TESTS = {
    name: TEMPLATE / "tests" / ONLY_BOTIFYTHON.replace("NAME", name) for name in ("test_botify.py", "fake_botify.py")
}
HTMX = {"HX-Request": "true"}
LOGGERS = ("httpx", "httpcore", "botify", "pipulate")


def lay_out(target: Path) -> Path:
    """The variant's Botify files under `target`, with the names a botifython project gets."""
    shutil.copytree(PACKAGE, target / "botify", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (target / "plugins").mkdir(parents=True, exist_ok=True)
    shutil.copy(PLUGIN, target / "plugins" / "botify_projects.py")
    return target


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The laid-out files, importable as `botify` for this module's tests."""
    root = lay_out(tmp_path_factory.mktemp("botifython"))
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    yield root
    sys.path.remove(str(root))
    for name in [name for name in sys.modules if name == "botify" or name.startswith("botify.")]:
        del sys.modules[name]


@pytest.fixture
def bt(project):
    return importlib.import_module("botify")


@pytest.fixture
def fake():
    with FakeBotify() as server:
        yield server


@pytest.fixture
def logs(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


class Sleeps:
    """Records the client's waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def call(bt, base_url, method, *args, token=VALID_TOKEN, client_options=None, **kwargs):
    async def go():
        async with bt.BotifyClient(token, base_url, **(client_options or {})) as client:
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(go())


def refused(bt, kind, base_url, method, *args, token=VALID_TOKEN, client_options=None, **kwargs):
    """The BotifyError a call raises (it must be `kind`), checked to leak nothing."""
    with pytest.raises(kind) as raised:
        call(bt, base_url, method, *args, token=token, client_options=client_options, **kwargs)
    error = raised.value
    assert isinstance(error, bt.BotifyError)
    assert error.message == str(error) and error.message.strip()
    assert token not in str(error) and token not in repr(error)
    # No httpx exception (holding the request and its headers) is chained to it.
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return error.message


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the client: the token check -------------------------------------------------------------------


def test_a_valid_token_gives_the_profile(bt, fake):
    profile = call(bt, fake.url, "profile")
    assert (profile.username, profile.first_name, profile.email) == (USERNAME, "Jane", f"{USERNAME}@example.com")
    assert profile.display_name == f"Jane Doe ({USERNAME})"
    assert fake.requests == [{"method": "GET", "path": "/v1/authentication/profile", "query": {}, "authorized": True}]


def test_an_invalid_token_is_refused_with_a_clear_message(bt, fake, logs):
    wrong = "0123456789abcdef0123456789abcdef00000000"
    message = refused(bt, bt.TokenRefused, fake.url, "profile", token=wrong)
    assert message.startswith("Botify refused the token; enter a new one")
    assert "401" in message and "Not Authorized" in message  # Botify's own error message
    assert wrong not in logs.text


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_both_mean_the_token_is_refused(bt, status):
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json={"detail": "Invalid token."}))
    message = refused(bt, bt.TokenRefused, "https://api.botify.com", "profile", client_options={"transport": transport})
    assert f"HTTP {status}: Invalid token." in message


@pytest.mark.parametrize(
    "bad",
    ["", "has space", "tab\tinside", "line\nbreak", "nul\x00", "del\x7f", "caf\u00e9-token", "x" * 201],
)
def test_what_cannot_be_a_token_is_refused_before_any_request(bt, fake, bad):
    with pytest.raises(bt.InvalidToken) as error:
        bt.BotifyClient(bad, fake.url)
    if bad:
        assert bad not in error.value.message
    assert fake.requests == []


def test_the_api_url_must_be_https_unless_local(bt):
    bt.BotifyClient(VALID_TOKEN, "https://api.botify.com/")
    bt.BotifyClient(VALID_TOKEN, "http://localhost:8000")
    for bad in ("http://api.botify.com", "ftp://api.botify.com", "api.botify.com", "https://u:p@api.botify.com"):
        with pytest.raises(bt.BotifyError):
            bt.BotifyClient(VALID_TOKEN, bad)


def test_the_client_repr_and_its_auth_hide_the_token(bt):
    client = bt.BotifyClient(VALID_TOKEN, "https://api.botify.com")
    assert VALID_TOKEN not in repr(client)
    assert VALID_TOKEN not in repr(client._http.auth)
    assert VALID_TOKEN not in repr(vars(client).get("_http"))
    asyncio.run(client.aclose())


# --- the client: lists and pages ---------------------------------------------------------------------


def test_projects_are_read_across_pages(bt, fake):
    listing = call(bt, fake.url, "projects", USERNAME)
    assert [p.slug for p in listing.items] == [p["slug"] for p in fake.projects]
    assert listing.total == 5 and not listing.truncated
    assert {p.owner for p in listing.items} == {USERNAME, "acme-org"}  # the user's and an organisation's
    assert [r["query"].get("page") for r in fake.requests] == [None, "2", "3"]  # next links, followed


def test_analyses_are_the_finished_ones_across_pages(bt, fake):
    listing = call(bt, fake.url, "analyses", "acme-org", "acme-shop")
    assert [(a.slug, a.status) for a in listing.items] == [
        ("20240301", "success"), ("20240201", "success"), ("20240115", "success"),
    ]
    assert [r["query"] for r in fake.requests] == [{"only_success": "true"}, {"only_success": "true", "page": "2"}]
    everything = call(bt, fake.url, "analyses", "acme-org", "acme-shop", only_success=False, page_size=10)
    assert len(everything.items) == 5 and everything.items[1].status == "failed"


def test_a_page_cap_stops_long_lists(bt, fake):
    listing = call(bt, fake.url, "projects", USERNAME, client_options={"max_pages": 2})
    assert len(listing.items) == 4 and listing.total == 5 and listing.truncated
    assert len(fake.requests) == 2


def test_an_unknown_project_is_not_found(bt, fake):
    message = refused(bt, bt.BotifyNotFound, fake.url, "analyses", "acme-org", "nope")
    assert "acme-org/nope" in message and "Project was not found" in message


def test_names_cannot_reach_another_endpoint(bt, fake):
    with pytest.raises(bt.BotifyError):
        call(bt, fake.url, "analyses", "acme-org", "..")
    refused(bt, bt.BotifyNotFound, fake.url, "analyses", "acme-org", "acme-shop/../../projects")
    assert all(r["path"].startswith("/v1/analyses/acme-org/") for r in fake.requests)


def test_a_next_link_to_another_site_is_not_followed(bt):
    seen: list[str] = []

    def answer(request):
        seen.append(str(request.url))
        return httpx.Response(200, json={"count": 2, "next": "https://elsewhere.example/v1/projects/x?page=2",
                                         "results": [{"slug": "one", "user": {"login": "x"}}]})

    message = refused(bt, bt.BadAnswer, "https://api.botify.com", "projects", "x",
                      client_options={"transport": httpx.MockTransport(answer)})
    assert "elsewhere.example" in message and "not followed" in message
    assert seen == ["https://api.botify.com/v1/projects/x"]


def test_a_plain_http_next_link_on_the_same_host_is_upgraded(bt):
    seen: list[str] = []

    def answer(request):
        seen.append(str(request.url))
        last = "page=2" in str(request.url)
        return httpx.Response(200, json={
            "count": 2, "next": None if last else "http://api.botify.com/v1/projects/x?page=2",
            "results": [{"slug": "two" if last else "one", "user": {"login": "x"}}],
        })

    listing = call(bt, "https://api.botify.com", "projects", "x", client_options={"transport": httpx.MockTransport(answer)})
    assert [p.slug for p in listing.items] == ["one", "two"]
    assert seen[1] == "https://api.botify.com/v1/projects/x?page=2"


def test_a_next_link_going_round_in_circles_stops(bt):
    def answer(request):
        return httpx.Response(200, json={"next": "https://api.botify.com/v1/projects/x?page=2", "results": []})

    message = refused(bt, bt.BadAnswer, "https://api.botify.com", "projects", "x",
                      client_options={"transport": httpx.MockTransport(answer)})
    assert "circle" in message


# --- the client: rate limiting, failures -----------------------------------------------------------


def test_429_is_retried_after_retry_after_then_succeeds(bt, fake):
    fake.rate_limit(2, retry_after="1")
    sleeps = Sleeps()
    assert call(bt, fake.url, "profile", client_options={"sleep": sleeps}).username == USERNAME
    assert sleeps.waits == [1.0, 1.0]
    assert len(fake.requests) == 3


def test_429_without_retry_after_backs_off(bt, fake):
    fake.rate_limit(3, retry_after=None)
    sleeps = Sleeps()
    assert call(bt, fake.url, "profile", client_options={"sleep": sleeps}).username == USERNAME
    assert sleeps.waits == [1.0, 2.0, 4.0]


def test_429_retries_really_wait(bt, fake):
    fake.rate_limit(1, retry_after="0")
    assert call(bt, fake.url, "profile").username == USERNAME  # asyncio.sleep, for real
    assert len(fake.requests) == 2


def test_429_retries_are_bounded_then_reported(bt, fake):
    fake.rate_limit(100, retry_after="0")
    sleeps = Sleeps()
    message = refused(bt, bt.RateLimited, fake.url, "projects", USERNAME, client_options={"sleep": sleeps, "max_retries": 3})
    assert "HTTP 429" in message and "4 tries" in message and "wait a minute" in message
    assert len(fake.requests) == 4 and len(sleeps.waits) == 3


def test_a_long_retry_after_is_reported_not_waited_for(bt, fake):
    fake.rate_limit(1, retry_after="3600")
    sleeps = Sleeps()
    message = refused(bt, bt.RateLimited, fake.url, "profile", client_options={"sleep": sleeps})
    assert "3600 seconds" in message and sleeps.waits == []


def test_a_closed_port_is_a_network_failure(bt):
    url = f"http://127.0.0.1:{closed_port()}"
    message = refused(bt, bt.Unreachable, url, "profile")
    assert message.startswith(f"Could not reach Botify at {url}; check your connection")


def test_a_server_that_never_answers_times_out(bt):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections (the kernel does) but never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        message = refused(bt, bt.Unreachable, url, "profile", client_options={"timeout": 0.5})
        assert f"Could not reach Botify at {url}" in message and "in time" in message
    finally:
        listener.close()


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_reported(bt, fake, status):
    fake.fail(1, status=status)
    message = refused(bt, bt.BadAnswer, fake.url, "profile")
    assert f"server error (HTTP {status})" in message and "try again later" in message


def test_an_answer_that_is_not_json_is_reported(bt, fake):
    fake.answer_html(1)
    message = refused(bt, bt.BadAnswer, fake.url, "profile")
    assert "not JSON (text/html)" in message


@pytest.mark.parametrize("body", [[1, 2], {"data": {"email": "x"}}, {"results": "nope"}])
def test_answers_of_the_wrong_shape_are_reported(bt, body):
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    method, args = ("projects", ("x",)) if "results" in body else ("profile", ())
    refused(bt, bt.BadAnswer, "https://api.botify.com", method, *args, client_options={"transport": transport})


def test_server_text_that_echoes_the_token_is_scrubbed(bt):
    transport = httpx.MockTransport(
        lambda request: httpx.Response(400, json={"error": {"message": f"bad {request.headers['authorization']}"}})
    )
    message = refused(bt, bt.BadAnswer, "https://api.botify.com", "profile", client_options={"transport": transport})
    assert "[token]" in message


def test_no_log_line_error_or_repr_holds_the_token(bt, fake, logs):
    """Every path the client has, at DEBUG for httpx, httpcore and botify."""
    call(bt, fake.url, "profile")
    call(bt, fake.url, "projects", USERNAME)
    fake.rate_limit(1, retry_after="0")
    call(bt, fake.url, "analyses", "acme-org", "acme-shop")
    messages = []
    for switch, method, args, kind in [
        (lambda: fake.rate_limit(1 + bt.client.DEFAULT_MAX_RETRIES), "profile", (), bt.RateLimited),
        (lambda: fake.fail(1), "profile", (), bt.BadAnswer),
        (lambda: fake.answer_html(1), "projects", (USERNAME,), bt.BadAnswer),
        (lambda: None, "analyses", ("acme-org", "nope"), bt.BotifyNotFound),
    ]:
        switch()
        messages.append(refused(bt, kind, fake.url, method, *args, client_options={"sleep": Sleeps()}))
    messages.append(refused(bt, bt.Unreachable, f"http://127.0.0.1:{closed_port()}", "profile"))
    assert "HTTP Request: GET" in logs.text and "send_request_headers" in logs.text  # the loggers did speak
    assert VALID_TOKEN not in logs.text
    assert all(VALID_TOKEN not in message for message in messages)


# --- the token store -----------------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_token_file_is_created_0600_even_with_a_zero_umask(bt, tmp_path, monkeypatch):
    opened = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777, *args, **kwargs):
        opened.append((Path(path).name, flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    old_umask = os.umask(0)
    try:
        path = bt.save_token(tmp_path / "data", VALID_TOKEN)
    finally:
        os.umask(old_umask)
    assert path == tmp_path / "data" / "botify-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == VALID_TOKEN + "\n"
    # Created with its final mode in the one call that made it (never briefly readable by others).
    [(name, flags, mode)] = [entry for entry in opened if entry[1] & os.O_CREAT]
    assert mode == 0o600 and flags & os.O_EXCL and name.startswith(".botify-token")
    assert [p.name for p in path.parent.iterdir()] == ["botify-token"]  # no temporary file left


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_token_file_readable_by_others_is_narrowed_when_read(bt, tmp_path, logs):
    path = bt.save_token(tmp_path, VALID_TOKEN)
    path.chmod(0o644)
    assert bt.read_token(tmp_path) == VALID_TOKEN
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "now 0600" in logs.text and VALID_TOKEN not in logs.text


def test_saving_again_replaces_and_forgetting_deletes(bt, tmp_path):
    assert bt.read_token(tmp_path) is None
    bt.save_token(tmp_path, "a" * 40)
    bt.save_token(tmp_path, VALID_TOKEN)
    assert bt.read_token(tmp_path) == VALID_TOKEN
    assert bt.delete_token(tmp_path) is True
    assert bt.delete_token(tmp_path) is False
    assert bt.read_token(tmp_path) is None


@pytest.mark.parametrize("bad", ["", "two words", "tab\there", "new\nline", "bell\x07", "\u00fcber", "y" * 201])
def test_a_bad_token_is_never_stored(bt, tmp_path, bad):
    with pytest.raises(bt.InvalidToken) as error:
        bt.save_token(tmp_path, bad)
    assert not bt.token_path(tmp_path).exists()
    if bad:
        assert bad not in error.value.message


def test_a_damaged_or_linked_token_file_is_refused(bt, tmp_path):
    bt.token_path(tmp_path).write_text("not a token at all\n")
    with pytest.raises(bt.TokenStoreError, match="does not hold a valid token"):
        bt.read_token(tmp_path)
    bt.delete_token(tmp_path)
    if os.name == "posix":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.write_text(VALID_TOKEN)
        bt.token_path(tmp_path).symlink_to(elsewhere)
        with pytest.raises(bt.TokenStoreError):
            bt.read_token(tmp_path)
        with pytest.raises(bt.TokenStoreError, match="symbolic link"):
            bt.save_token(tmp_path, VALID_TOKEN)


# --- the token command -------------------------------------------------------------------------------


def token_command(project, *args, stdin="", cwd=None, env=None):
    environment = clean_env(PYTHONPATH=str(project))
    environment.pop("BOTIFY_API_URL", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "botify.token_cli", *args],
        input=stdin, capture_output=True, text=True, timeout=scaled(60), env=environment, cwd=cwd or project,
    )


def assert_no_token(*results):
    for result in results:
        assert VALID_TOKEN not in result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr


def one_error_line(result, mentions: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("python -m botify.token_cli: error: "), lines[0]
    assert mentions.lower() in lines[0].lower(), lines[0]
    return lines[0]


def test_the_token_command_sets_checks_and_forgets_the_token(project, fake, tmp_path):
    data = ["--data-dir", str(tmp_path / "data"), "--api-url", fake.url]
    saved = token_command(project, *data, "set", stdin=VALID_TOKEN + "\n")
    assert saved.returncode == 0, saved.stderr
    assert f"Jane Doe ({USERNAME})" in saved.stdout
    path = tmp_path / "data" / "botify-token"
    assert path.read_text().strip() == VALID_TOKEN
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    status = token_command(project, *data, "status")
    assert status.returncode == 0 and "Botify accepts it" in status.stdout
    offline = token_command(project, *data, "status", "--offline")
    assert offline.returncode == 0 and "not checked" in offline.stdout

    forgotten = token_command(project, *data, "forget")
    assert forgotten.returncode == 0 and "Forgot the Botify token" in forgotten.stdout and not path.exists()
    again = token_command(project, *data, "forget")
    assert again.returncode == 0 and "nothing to forget" in again.stdout
    missing = token_command(project, *data, "status")
    assert missing.returncode == 1 and "No Botify token is stored" in missing.stdout
    assert_no_token(saved, status, offline, forgotten, again, missing)
    assert [r["path"] for r in fake.requests] == ["/v1/authentication/profile"] * 2  # set, status


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="util-linux `script` gives the command a terminal")
def test_at_a_terminal_the_token_is_typed_unseen(project, fake, tmp_path):
    """getpass at a real (pseudo-)terminal: the token is neither echoed nor printed."""
    import select
    import shlex

    command = [sys.executable, "-m", "botify.token_cli", "--data-dir", str(tmp_path), "--api-url", fake.url, "set"]
    terminal = subprocess.Popen(
        ["script", "-q", "-e", "-c", shlex.join(command), "/dev/null"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=clean_env(PYTHONPATH=str(project), TERM="dumb"),
    )
    screen = b""

    def read_until(done, seconds=30.0):
        nonlocal screen
        deadline = time.monotonic() + scaled(seconds)
        while not done() and time.monotonic() < deadline:
            ready, _, _ = select.select([terminal.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(terminal.stdout.fileno(), 4096)
                if not chunk:
                    return
                screen += chunk

    try:
        read_until(lambda: b"typing is hidden" in screen)
        assert b"typing is hidden" in screen, screen
        terminal.stdin.write(VALID_TOKEN.encode() + b"\n")  # typed only once echo is off
        terminal.stdin.flush()
        read_until(lambda: terminal.poll() is not None and not select.select([terminal.stdout], [], [], 0)[0])
        terminal.stdin.close()
        assert terminal.wait(timeout=scaled(30)) == 0, screen
    finally:
        if terminal.poll() is None:
            terminal.kill()
            terminal.wait()
    assert b"saved it in" in screen and VALID_TOKEN.encode() not in screen
    assert (tmp_path / "botify-token").read_text().strip() == VALID_TOKEN


def test_a_refused_token_is_not_stored(project, fake, tmp_path):
    result = token_command(project, "--data-dir", str(tmp_path), "--api-url", fake.url, "set", stdin="deadbeef" * 5)
    one_error_line(result, "Botify refused the token; enter a new one")
    assert not (tmp_path / "botify-token").exists()
    assert "deadbeef" not in result.stdout + result.stderr


@pytest.mark.parametrize("stdin", ["", "\n", "two words\n", "x" * 300 + "\n"])
def test_a_malformed_token_is_refused_before_asking_botify(project, fake, tmp_path, stdin):
    result = token_command(project, "--data-dir", str(tmp_path), "--api-url", fake.url, "set", stdin=stdin)
    one_error_line(result, "token")
    assert fake.requests == [] and not (tmp_path / "botify-token").exists()


def test_status_reports_a_token_botify_no_longer_accepts(project, fake, tmp_path, bt):
    bt.save_token(tmp_path, "0" * 40)
    result = token_command(project, "--data-dir", str(tmp_path), "--api-url", fake.url, "status")
    line = one_error_line(result, "no longer works")
    assert "botify.token_cli set" in line


def test_the_command_reads_the_api_url_and_data_dir_like_the_app(project, fake, tmp_path):
    (tmp_path / "pipulate.toml").write_text('app_name = "Acme Botify"\ndata_dir = "my-data"\n')
    result = token_command(project, "set", stdin=VALID_TOKEN, cwd=tmp_path, env={"BOTIFY_API_URL": fake.url})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "my-data" / "botify-token").is_file()
    assert_no_token(result)


def test_network_failure_and_bad_options_are_one_line(project, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    result = token_command(project, "--data-dir", str(tmp_path), "--api-url", url, "set", stdin=VALID_TOKEN)
    one_error_line(result, f"Could not reach Botify at {url}; check your connection")
    insecure = token_command(project, "--data-dir", str(tmp_path), "--api-url", "http://api.botify.com", "set",
                             stdin=VALID_TOKEN)
    one_error_line(insecure, "https://")
    assert not (tmp_path / "botify-token").exists()
    # Forgetting needs no API: a wrong URL does not stand in its way.
    (tmp_path / "botify-token").write_text(VALID_TOKEN)
    forgotten = token_command(project, "--data-dir", str(tmp_path), "--api-url", "nonsense", "forget")
    assert forgotten.returncode == 0 and not (tmp_path / "botify-token").exists()
    (tmp_path / "pipulate.toml").write_text("port = 'not a number'\n")
    config = token_command(project, "status", cwd=tmp_path)
    one_error_line(config, "port")
    usage = token_command(project, "launch")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
    assert_no_token(result, insecure, forgotten, config, usage)


# --- the Botify page -----------------------------------------------------------------------------------


@pytest.fixture
def app_client(project, tmp_path, fake, monkeypatch):
    monkeypatch.setenv("BOTIFY_API_URL", fake.url)
    settings = Settings(app_name="Acme Botify", data_dir=tmp_path / "data", plugin_dirs=(project / "plugins",))
    with TestClient(create_app(settings), base_url="http://127.0.0.1:5001") as client:
        client.data_dir = settings.data_dir
        yield client


def test_without_a_token_the_page_asks_for_one(app_client):
    response = app_client.get("/botify")
    assert response.status_code == 200
    assert '<input type="password" name="token"' in response.text
    assert 'hx-post="/botify/token"' in response.text
    assert ">Botify</a>" in response.text  # in the menu


def test_a_refused_token_is_a_4xx_message_and_nothing_is_stored(app_client, fake):
    response = app_client.post("/botify/token", data={"token": "deadbeef" * 5}, headers=HTMX)
    assert response.status_code == 403
    assert "Botify refused the token; enter a new one" in response.text and "Nothing was saved" in response.text
    assert response.headers["HX-Retarget"] == "#flash"
    assert "deadbeef" not in response.text
    assert not (app_client.data_dir / "botify-token").exists()


@pytest.mark.parametrize("token", ["", "   ", "two words", "x" * 201])
def test_a_malformed_token_is_a_422_before_asking_botify(app_client, fake, token):
    response = app_client.post("/botify/token", data={"token": token}, headers=HTMX)
    assert response.status_code == 422 and "Nothing was saved" in response.text
    assert fake.requests == [] and not (app_client.data_dir / "botify-token").exists()


def test_a_good_token_is_stored_0600_and_the_projects_are_listed_escaped(app_client, fake):
    response = app_client.post("/botify/token", data={"token": f"  {VALID_TOKEN}\n"}, headers=HTMX)
    assert response.status_code == 200
    path = app_client.data_dir / "botify-token"
    assert path.read_text().strip() == VALID_TOKEN
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    page = response.text
    assert '<div id="botify-panel">' in page and f'<span class="badge">{USERNAME}</span>' in page
    assert "Your projects" in page and "Organisation acme-org" in page
    for project in fake.projects:
        assert f'data-slug="{project["slug"]}"' in page
    # Names from Botify are text, never markup.
    assert "Acme &lt;b&gt;shop&lt;/b&gt; &amp; co" in page and "<b>shop" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert 'hx-get="/botify/analyses/acme-org/acme-shop"' in page
    assert VALID_TOKEN not in page


def test_with_a_token_the_page_lists_projects_and_a_project_its_analyses(app_client, fake, bt):
    bt.save_token(app_client.data_dir, VALID_TOKEN)
    page = app_client.get("/botify")
    assert page.status_code == 200 and "Organisation acme-org" in page.text and "Forget token" in page.text
    assert 'hx-confirm="Forget the Botify token?' in page.text
    analyses = app_client.get("/botify/analyses/acme-org/acme-shop", headers=HTMX)
    assert analyses.status_code == 200
    assert [s for s in ("20240301", "20240201", "20240115", "20240215", "20240110") if s in analyses.text] == [
        "20240301", "20240201", "20240115",
    ]
    assert "Feb &lt;i&gt;crawl&lt;/i&gt;" in analyses.text and "<i>crawl" not in analyses.text
    empty = app_client.get("/botify/analyses/acme-org/acme-blog", headers=HTMX)
    assert empty.status_code == 200 and "No finished analyses yet" in empty.text
    # The profile is asked once per token, not on every page.
    app_client.get("/botify")
    assert [r["path"] for r in fake.requests].count("/v1/authentication/profile") == 1


def test_botify_failures_are_readable_never_a_500(app_client, fake, bt, logs, monkeypatch):
    bt.save_token(app_client.data_dir, VALID_TOKEN)
    fake.fail(1)
    page = app_client.get("/botify")
    assert page.status_code == 200 and "server error (HTTP 500)" in page.text and "Try again" in page.text
    fake.answer_html(1)
    assert "not JSON" in app_client.get("/botify/panel", headers=HTMX).text

    fake.rate_limit(100, retry_after="0")
    limited = app_client.get("/botify/analyses/acme-org/acme-shop", headers=HTMX)
    assert limited.status_code == 429 and "HTTP 429" in limited.text
    fake.rate_limit(0)
    unknown = app_client.get("/botify/analyses/acme-org/nope", headers=HTMX)
    assert unknown.status_code == 404 and "Project was not found" in unknown.text
    bad_name = app_client.get("/botify/analyses/acme-org/bad%20name", headers=HTMX)
    assert bad_name.status_code == 404

    monkeypatch.setenv("BOTIFY_API_URL", f"http://127.0.0.1:{closed_port()}")
    offline = app_client.get("/botify/analyses/acme-org/acme-shop", headers=HTMX)
    assert offline.status_code == 424 and "check your connection" in offline.text
    offline_page = app_client.get("/botify")
    assert offline_page.status_code == 200 and "Could not reach Botify" in offline_page.text
    assert "Traceback" not in logs.text and "error while answering" not in logs.text
    for response in (page, limited, unknown, offline, offline_page):
        assert VALID_TOKEN not in response.text


def test_a_token_botify_no_longer_accepts_shows_the_form_again(app_client, bt):
    bt.save_token(app_client.data_dir, "0" * 40)
    page = app_client.get("/botify")
    assert page.status_code == 200
    assert "Botify refused the token; enter a new one" in page.text and 'type="password"' in page.text
    assert ("0" * 40) not in page.text


def test_forget_deletes_the_token(app_client, bt):
    bt.save_token(app_client.data_dir, VALID_TOKEN)
    response = app_client.post("/botify/forget", headers=HTMX)
    assert response.status_code == 200 and "forgotten" in response.text and 'type="password"' in response.text
    assert bt.read_token(app_client.data_dir) is None
    assert app_client.get("/botify/analyses/acme-org/acme-shop", headers=HTMX).status_code == 409


def test_a_foreign_site_cannot_post_a_token(app_client):
    response = app_client.post("/botify/token", data={"token": VALID_TOKEN}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert not (app_client.data_dir / "botify-token").exists()


def test_no_html_or_log_line_of_the_app_holds_the_token(app_client, fake, logs):
    responses = [
        app_client.get("/botify"),
        app_client.post("/botify/token", data={"token": VALID_TOKEN}, headers=HTMX),
        app_client.get("/botify"),
        app_client.get("/", headers=HTMX),
        app_client.get("/botify/analyses/acme-org/acme-shop", headers=HTMX),
        app_client.get("/botify/panel", headers=HTMX),
        app_client.post("/botify/forget", headers=HTMX),
    ]
    assert all(r.status_code == 200 for r in responses)
    assert all(VALID_TOKEN not in r.text and VALID_TOKEN not in str(r.headers) for r in responses)
    assert "HTTP Request: GET" in logs.text and VALID_TOKEN not in logs.text


# --- the variant's own copies and tests ------------------------------------------------------------------


def test_the_variant_ships_the_same_fake_botify():
    assert VARIANT_TESTS["fake_botify.py"].read_bytes() == (ROOT / "tests/support/fake_botify.py").read_bytes()


def test_the_variants_own_botify_tests_pass(tmp_path):
    """templates/variant/tests/test_botify.py, run as in a generated project (its conftest included)."""
    project = lay_out(tmp_path / "acme-botify")
    (project / "tests").mkdir()
    for name, source in VARIANT_TESTS.items():
        shutil.copy(source, project / "tests" / name)
    shutil.copy(TEMPLATE / "tests" / "conftest.py", project / "tests" / "conftest.py")
    (project / "pipulate.toml").write_text(
        'app_name = "Acme Botify"\ndatabase_file = "acme-botify.db"\nport = 5002\ndata_dir = "data"\n'
        'plugin_dirs = ["plugins"]\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project, env=clean_env(), capture_output=True, text=True, timeout=scaled(300),
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert VALID_TOKEN not in result.stdout  # the variant's tests print nothing of it either


# --- end to end: `pipulate new botifython`, installed, its command and its tests -------------------------


def test_pipulate_new_makes_a_botifython_whose_token_command_and_tests_work(template, venv_python, tmp_path, fake):
    from .support import git, new_variant, pip_install_editable

    project = new_variant(template, "botifython", tmp_path / "acme-botify", "--name", "Acme Botify")
    assert (project / "botify" / "client.py").read_bytes() == (PACKAGE / "client.py").read_bytes()
    assert (project / "plugins" / "botify_projects.py").is_file()
    pip_install_editable(venv_python, project)

    command = venv_python.parent / ("acme-botify-token.exe" if os.name == "nt" else "acme-botify-token")
    env = clean_env(BOTIFY_API_URL=fake.url)

    def token(*args, stdin=""):
        return subprocess.run([str(command), *args], input=stdin, cwd=project, env=env,
                              capture_output=True, text=True, timeout=scaled(60))

    saved = token("set", stdin=VALID_TOKEN + "\n")
    assert saved.returncode == 0, saved.stderr
    stored = project / "data" / "botify-token"  # data_dir from the variant's pipulate.toml
    assert stored.read_text().strip() == VALID_TOKEN
    if os.name == "posix":
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    status = token("status")
    assert status.returncode == 0 and "Botify accepts it" in status.stdout
    refused = token("set", stdin="deadbeef" * 5)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "acme-botify-token: error: Botify refused the token; enter a new one (HTTP 401: Not Authorized)."
    )
    assert stored.read_text().strip() == VALID_TOKEN  # the refused one replaced nothing
    forgotten = token("forget")
    assert forgotten.returncode == 0 and not stored.exists()
    assert_no_token(saved, status, refused, forgotten)
    assert git(project, "status", "--porcelain") == ""  # the token lives in data/, which git ignores

    tests = subprocess.run(
        [str(venv_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_botify.py"],
        cwd=project, env=clean_env(), capture_output=True, text=True, timeout=scaled(300),
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and "skipped" not in tests.stdout
