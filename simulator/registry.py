"""Every vendor the simulator serves: one explicit line each."""

from __future__ import annotations

from simulator.vendors.aioasis import AioasisVendor
from simulator.vendors.aliyun import AliyunVendor
from simulator.vendors.baidu import BaiduVendor
from simulator.vendors.base import Vendor
from simulator.vendors.itapi import ItapiVendor
from simulator.vendors.showapi import ShowapiVendor


def vendors() -> dict[str, Vendor]:
    found: list[Vendor] = [
        BaiduVendor(),
        AliyunVendor(),
        ItapiVendor(),
        AioasisVendor(),
        ShowapiVendor(),
    ]
    return {v.name: v for v in found}
