"""Every vendor the simulator serves: one explicit line each."""

from __future__ import annotations

from simulator.vendors.baidu import BaiduVendor
from simulator.vendors.base import Vendor


def vendors() -> dict[str, Vendor]:
    found: list[Vendor] = [
        BaiduVendor(),
    ]
    return {v.name: v for v in found}
