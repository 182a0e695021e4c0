"""The data tests' fixtures: a mirror server on 127.0.0.1 (tests/support/mirror.py)."""

import pytest
from mirror import serving


@pytest.fixture
def server():
    """A running mirror server: its Behaviour, torn down after the test."""
    with serving() as behaviour:
        yield behaviour
