"""``/green/credentials/uploadcredentials``: a temporary OSS upload credential (what the
green-extension ClientUploader asks for before putting a local file to OSS). No OSS is simulated:
the uploader's PUT goes to the named endpoint; the ``oss://bucket/folder/...`` URL it then submits
is taken as synthetic content (loading.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.sim import Sim

TTL_S = 3600


def upload_credentials(sim: Sim, uid: str, region: str) -> dict[str, Any]:
    now = sim.clock.now()
    day = sim.clock.now_dt().strftime("%Y%m%d")
    return {
        "accessKeyId": "STS.NT" + sim.rng.hex(24).upper()[:22],
        "accessKeySecret": sim.rng.hex(44)[:44],
        "securityToken": "CAIS" + sim.rng.hex(120),
        "expiredTime": int((now + TTL_S) * 1000),
        "ossEndpoint": f"https://oss-{region}.aliyuncs.com",
        "ossInternalEndpoint": f"https://oss-{region}-internal.aliyuncs.com",
        "uploadBucket": f"green-upload-{region}",
        "uploadFolder": f"{uid}/{day}",
    }
