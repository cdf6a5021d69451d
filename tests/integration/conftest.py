"""pytest fixtures for the tests here: the real exporter against the live kernel, so every one needs root."""
import contextlib

import pytest

import harness


@pytest.fixture(autouse=True, scope='session')
def root():
    harness.require_root()


@pytest.fixture
def start_exporter():
    """start_exporter(*args, scheme='http') runs the binary with extra arguments; each is stopped after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda *args, **kwargs: stack.enter_context(harness.Exporter(harness.BINARY, *args, **kwargs))


@pytest.fixture
def exporter(start_exporter):
    """The exporter with its default configuration."""
    return start_exporter()


@pytest.fixture
def config_file(tmp_path):
    """config_file(text) writes a YAML file in the test's temporary directory and returns its path."""
    def write(text, name='config.yml'):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write
