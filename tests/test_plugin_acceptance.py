"""Issue-5 acceptance, written the way a user would: only the plugin's ``modsim`` fixture and the
unmodified official SDK (URLs repointed)."""

from __future__ import annotations

import aip
import pytest

from simulator.content import make_image
from simulator.pytest_plugin import ModsimHandle


def sdk(modsim: ModsimHandle) -> aip.AipImageCensor:
    cred = modsim.credentials("baidu")
    client = aip.AipImageCensor(cred["app_id"], cred["api_key"], cred["secret_key"])
    client._AipBase__accessTokenUrl = modsim.url + "/oauth/2.0/token"
    client._AipImageCensor__faceAuditUrl = modsim.url + "/rest/2.0/solution/v1/face_audit"
    return client


@pytest.mark.sdk
def test_baidu_answers_18_twice_then_succeeds(modsim: ModsimHandle) -> None:
    modsim.fault({"type": "error", "code": 18}, vendor="baidu", operation="face_audit", first_n=2)
    client = sdk(modsim)
    image = make_image("clean_avatar", "jpeg")
    answers = [client.faceAudit(image) for _ in range(3)]
    assert answers[0] == {"error_code": 18, "error_msg": "Open api qps request limit reached"}
    assert answers[1] == {"error_code": 18, "error_msg": "Open api qps request limit reached"}
    assert answers[2]["result"][0]["res_code"] == 0
    assert [e["vendor_code"] for e in modsim.journal(vendor="baidu", operation="face_audit")] == [18, 18, 0]
    assert modsim.faults()[0]["hits"] == 2


@pytest.mark.sdk
@pytest.mark.modsim(queue=[{"scenario": "porn", "vendor": "baidu", "operation": "face_audit"}])
def test_marker_queues_a_verdict(modsim: ModsimHandle) -> None:
    body = sdk(modsim).faceAudit(make_image("clean_avatar", "png"))
    assert body["result"][0]["res_msg"] == [301]


def test_each_test_starts_clean(modsim: ModsimHandle) -> None:
    assert modsim.faults() == [] and modsim.journal() == []
    assert set(modsim.all_credentials()) == {"baidu", "showapi", "aioasis", "itapi", "aliyun"}
