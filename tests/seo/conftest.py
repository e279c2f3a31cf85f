import pytest

from tests.seo.support import serve_fixture


@pytest.fixture
def site():
    """The fixture website, served on 127.0.0.1 for one test."""
    with serve_fixture() as server:
        yield server
