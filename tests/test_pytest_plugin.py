"""The pytest plugin, exercised the way a user's suite would (pytester runs a separate session)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

BAIDU_FLOW = """
import requests

def token(modsim):
    cred = modsim.credentials("baidu")
    r = requests.get(modsim.url + "/oauth/2.0/token", params={
        "grant_type": "client_credentials", "client_id": cred["api_key"], "client_secret": cred["secret_key"]})
    return r.json()["access_token"]

def audit(modsim, tok):
    return requests.post(modsim.url + "/rest/2.0/solution/v1/face_audit", params={"access_token": tok},
                         data={"images": "iVBORw0KGgo="}).json()
"""


def test_handle_resets_between_tests_and_drives_faults(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        helpers=BAIDU_FLOW,
        test_user="""
from helpers import token, audit

def test_first(modsim):
    modsim.fault({"type": "error", "code": 18}, vendor="baidu", operation="face_audit", first_n=2)
    tok = token(modsim)
    codes = [audit(modsim, tok).get("error_code") for _ in range(3)]
    assert codes == [18, 18, 216201]
    assert [e["vendor_code"] for e in modsim.journal(vendor="baidu", operation="face_audit")] == [18, 18, 216201]

def test_second_starts_clean(modsim):
    assert modsim.faults() == []
    assert modsim.journal() == []
""",
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_marker_configures_faults_and_queue(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        helpers=BAIDU_FLOW,
        test_marker="""
import base64
import pytest
import requests
from helpers import token
from simulator.content import make_image

@pytest.mark.modsim(queue=[{"scenario": "porn", "vendor": "baidu"}],
                    faults=[{"vendor": "baidu", "operation": "token", "first_n": 1,
                             "action": {"type": "error", "code": "invalid_client"}}])
def test_marked(modsim):
    first = requests.get(modsim.url + "/oauth/2.0/token", params={"grant_type": "client_credentials",
                         "client_id": "demo-baidu-api-key", "client_secret": "demo-baidu-secret-key"})
    assert first.status_code == 401
    tok = token(modsim)
    img = base64.b64encode(make_image("clean_avatar")).decode()
    body = requests.post(modsim.url + "/rest/2.0/solution/v1/face_audit", params={"access_token": tok},
                         data={"images": img}).json()
    assert body["result"][0]["res_msg"] == [301]
""",
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_server_exception_is_reraised_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
import simulator.vendors.baidu.models as models

@pytest.fixture(autouse=True)
def broken(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("kaboom inside the simulator")
    monkeypatch.setattr(models, "render_result", boom)
"""
    )
    pytester.makepyfile(
        helpers=BAIDU_FLOW,
        test_boom="""
import base64
import requests
from helpers import token
from simulator.content import make_image

def test_calls_broken_server(modsim):
    tok = token(modsim)
    img = base64.b64encode(make_image(None)).decode()
    body = requests.post(modsim.url + "/rest/2.0/solution/v1/face_audit", params={"access_token": tok},
                         data={"images": img}).json()
    assert body["error_code"] == 282000
""",
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ModsimServerError*", "*kaboom inside the simulator*"])


def test_settings_fixture_override(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
from simulator.settings import Settings

@pytest.fixture(scope="session")
def modsim_settings():
    return Settings(seed=42, journal_size=5)
"""
    )
    pytester.makepyfile(
        test_settings="""
import requests

def test_seed(modsim):
    assert modsim.server.sim.settings.seed == 42
    for _ in range(7):
        requests.get(modsim.url + "/oauth/2.0/token")
    assert len(modsim.journal()) == 5
    assert modsim.client.health()["status"] == "ok"
"""
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
