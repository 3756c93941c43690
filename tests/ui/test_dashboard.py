"""The dashboard (/__modsim/ui/) in a real browser: Debian's headless Chromium (/usr/bin/chromium; never a
downloaded browser) driven by Playwright, against a running simulator, with the official Baidu SDK
making the requests.

Every test fails on a console error or an uncaught page error (``ui`` fixture). Waiting is always for
something to appear, with a timeout; nothing is timed.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from simulator.content import make_image
from simulator.settings import Settings
from tests.helpers import BAIDU_API_KEY
from tests.live import LiveServer
from tests.vendors.baidu.test_sdk import sdk_client

pytestmark = pytest.mark.sdk

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "dashboard.png"
#: what a test waits for at most (for something to appear)
WAIT_MS = 10_000
VIEWS = ("traffic", "scenarios", "faults", "state", "export")
#: 2026-01-01 10:00:00 UTC+8, for the screenshot
FIXED_TIME = 1767232800


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test.sh installs it)")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),  # a fresh profile
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport=WIDE,
            timezone_id="Asia/Shanghai",
            locale="en-US",
            accept_downloads=True,
        )
        yield context
        context.close()


@dataclass
class UI:
    """A page of the dashboard and what its console said."""

    page: Page
    errors: list[str] = field(default_factory=list)
    #: console errors a test provokes on purpose: (URL part, HTTP status)
    expected: list[tuple[str, int]] = field(default_factory=list)

    def console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(f"{msg.text} at {msg.location.get('url')}")

    def unexpected(self) -> list[str]:
        """Errors but those provoked on purpose (Chromium: "Failed to load resource: the server
        responded with a status of 400 (Bad Request) at URL")."""
        return [
            e
            for e in self.errors
            if not any(f"status of {status} " in e and part in e for part, status in self.expected)
        ]

    def open(self, server: LiveServer, view: str = "traffic") -> Page:
        self.page.goto(f"{server.url}/__modsim/ui/#{view}")
        expect(self.page.locator("#live")).to_have_class(re.compile(r"\bon\b"), timeout=WAIT_MS)
        return self.page


@pytest.fixture
def ui(browser: BrowserContext) -> Iterator[UI]:
    page = browser.new_page()
    page.set_viewport_size(WIDE)
    watch = UI(page)
    page.on("console", watch.console)
    page.on("pageerror", lambda exc: watch.errors.append(f"uncaught: {exc}"))
    yield watch
    page.close()
    assert watch.unexpected() == []


def admin(server: LiveServer, method: str, path: str, body: Any = None) -> Any:
    resp = requests.request(method, f"{server.url}/__modsim{path}", json=body, timeout=10)
    assert resp.status_code < 300, resp.text
    return resp.json()


def rows(page: Page, text: str) -> Any:
    return page.locator("#entries tbody tr", has_text=text)


# --- 1, 2: live traffic, and why --------------------------------------------------------------------


def test_an_sdk_request_shows_up_live(ui: UI, live: LiveServer) -> None:
    page = ui.open(live)
    expect(page.locator("#empty")).to_be_visible()
    page.evaluate("window.modsimTestMark = 42")
    body = sdk_client(live).faceAudit(make_image("explicit_with_phone", "jpeg"))
    assert body["result"][0]["res_code"] == 1
    expect(rows(page, "face_audit")).to_have_count(1, timeout=WAIT_MS)
    expect(rows(page, "token")).to_have_count(1)
    expect(rows(page, "face_audit")).to_contain_text("explicit_with_phone")
    assert page.evaluate("window.modsimTestMark") == 42  # the same document: nothing was reloaded
    # and the next one too, on the same stream
    sdk_client(live).faceAudit(["https://img.example.invalid/a.jpg#modsim=porn"])
    expect(rows(page, "face_audit")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#count")).to_have_text("4 of 4 shown")
    # filters: by vendor code, status and operation
    page.fill("#filters input[name=status]", "2xx")
    page.select_option("#filters select[name=operation]", "token")
    expect(page.locator("#entries tbody tr")).to_have_count(2)
    page.select_option("#filters select[name=operation]", "")
    page.fill("#filters input[name=status]", "none")
    expect(page.locator("#entries tbody tr")).to_have_count(0)
    page.click("#filters button[type=reset]")
    expect(page.locator("#entries tbody tr")).to_have_count(4)


def test_opening_an_entry_shows_the_scenario_and_the_auth_reasoning(ui: UI, live: LiveServer) -> None:
    page = ui.open(live)
    client = sdk_client(live)
    client.faceAudit(make_image("explicit_with_phone", "jpeg"))
    client.faceAudit(["https://img.example.invalid/a.jpg#modsim=porn"])
    entries = admin(live, "GET", "/journal?operation=face_audit")["entries"]
    expect(rows(page, "face_audit")).to_have_count(2, timeout=WAIT_MS)

    rows(page, "explicit_with_phone").click()
    detail = page.locator("#detail")
    why = detail.locator("dl.why")
    expect(detail.locator(".reqline code")).to_contain_text(
        "POST /rest/2.0/solution/v1/face_audit?access_token="
    )
    expect(why).to_contain_text("explicit_with_phone")
    expect(why).to_contain_text("from marker")
    expect(why).to_contain_text(entries[0]["auth"]["reason"])  # which token, whose, valid until when
    assert f"of '{BAIDU_API_KEY}' valid until" in entries[0]["auth"]["reason"]
    expect(why).to_contain_text("baidu/face_audit.success")  # the live server validates its answers
    expect(why).to_contain_text("none fired")
    # the image the SDK sent, as a thumbnail; the answer's Chinese texts as they are
    thumb = detail.locator(".thumb img")
    expect(thumb).to_have_count(1, timeout=WAIT_MS)
    expect(thumb).to_have_js_property("naturalWidth", 160, timeout=WAIT_MS)
    expect(detail).to_contain_text("约 13900001111")  # OCR text in the kept 1 KB of the answer
    expect(detail).to_contain_text("configId")  # the form body, decoded

    # URL content: no bytes, a placeholder naming the marker's scenario
    rows(page, "porn").click()
    expect(detail.locator(".thumb.placeholder")).to_contain_text("porn")
    expect(detail.locator(".thumb img")).to_have_count(0)

    # a rejected credential: the reason it was refused
    sdk_client(live, secret_key="not-the-secret").faceAudit(make_image(None, "png"))
    refused = rows(page, "token").filter(has_text="401")
    expect(refused).to_have_count(1, timeout=WAIT_MS)
    refused.click()
    expect(why).to_contain_text("rejected")
    expect(why).to_contain_text(f"secret key does not match API key '{BAIDU_API_KEY}'")


# --- 3: queueing a scenario -------------------------------------------------------------------------


def test_queueing_a_scenario_from_the_ui_changes_the_next_sdk_answer(ui: UI, live: LiveServer) -> None:
    client = sdk_client(live)
    plain = make_image(None, "png")
    assert client.faceAudit(plain)["result"][0]["res_code"] == 0  # the content's own verdict: pass
    page = ui.open(live, "scenarios")
    card = page.locator(".scenario[data-name=porn]")
    expect(card.locator("img")).to_have_js_property("complete", True, timeout=WAIT_MS)
    form = page.locator("#queue-form")
    form.locator("select[name=vendor]").select_option("baidu")
    form.locator("select[name=operation]").select_option("face_audit")
    form.locator("select[name=credential]").select_option(BAIDU_API_KEY)
    card.get_by_role("button", name="Queue").click()
    expect(form.locator(".result")).to_contain_text("Queued porn for the next 1 matching call(s).")
    expect(page.locator("#queue-list")).to_contain_text(f"porn for baidu / face_audit / {BAIDU_API_KEY}")
    assert admin(live, "GET", "/queue")["queue"] == [
        {
            "scenario": "porn",
            "vendor": "baidu",
            "operation": "face_audit",
            "credential": BAIDU_API_KEY,
            "remaining": 1,
        }
    ]

    assert client.faceAudit(plain)["result"][0]["res_code"] == 1  # the queued verdict
    assert client.faceAudit(plain)["result"][0]["res_code"] == 0  # used up: the content decides again
    page.click("#tabs a[data-view=traffic]")
    expect(rows(page, "from queued").or_(rows(page, "porn"))).to_have_count(1, timeout=WAIT_MS)
    rows(page, "porn").click()
    expect(page.locator("#detail dl.why")).to_contain_text("from queued")


def test_a_refused_queue_shows_why(ui: UI, live: LiveServer) -> None:
    refusal = requests.post(
        f"{live.url}/__modsim/queue",
        json={"scenario": "porn", "vendor": "baidu", "operation": "spam", "count": 1},
        timeout=10,
    )
    assert refusal.status_code == 400
    ui.expected.append(("/__modsim/queue", 400))  # Chromium logs the refused call
    page = ui.open(live, "scenarios")
    form = page.locator("#queue-form")
    form.locator("select[name=scenario]").select_option("porn")
    form.locator("select[name=vendor]").select_option("baidu")
    form.locator("select[name=operation]").select_option("spam")  # a text operation: no image to render
    form.get_by_role("button", name="Queue").click()
    expect(form.locator(".result")).to_have_text(f"Refused: {refusal.json()['detail']}")
    assert admin(live, "GET", "/queue")["queue"] == []


# --- 4: faults --------------------------------------------------------------------------------------


def test_adding_and_deleting_a_fault_from_the_ui(ui: UI, live: LiveServer) -> None:
    client = sdk_client(live)
    page = ui.open(live, "faults")
    form = page.locator("#fault-form")
    form.locator("select[name=template]").select_option(label="Fail twice with Baidu 18 (QPS), then succeed")
    expect(form.locator("select[name=vendor]")).to_have_value("baidu")
    expect(form.locator("select[name=operation]")).to_have_value("face_audit")
    form.get_by_role("button", name="Add fault").click()
    expect(form.locator(".result")).to_have_text("Added rule f1.")
    row = page.locator("#faults-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("baidu · face_audit")
    expect(row).to_contain_text("first 2")
    assert admin(live, "GET", "/faults")["rules"][0]["action"] == {"type": "error", "code": 18}

    assert client.faceAudit(make_image(None, "png")) == {
        "error_code": 18,
        "error_msg": "Open api qps request limit reached",
    }
    expect(row.locator("td").nth(4)).to_have_text("1", timeout=WAIT_MS)  # seen, updated live
    expect(row.locator("td").nth(5)).to_have_text("1")  # hits

    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#fault-list")).to_contain_text("No fault rules")
    assert admin(live, "GET", "/faults")["rules"] == []
    assert "error_code" not in client.faceAudit(make_image(None, "png"))  # no longer faulted


def test_fault_templates_clear_all_and_refusals(ui: UI, live: LiveServer) -> None:
    ui.expected.append(("/__modsim/faults", 400))
    page = ui.open(live, "faults")
    form = page.locator("#fault-form")
    form.locator("select[name=template]").select_option(label="HTTP 502 gateway page")
    form.locator("select[name=vendor]").select_option("showapi")
    form.get_by_role("button", name="Add fault").click()
    form.locator("select[name=template]").select_option(label="Latency 1500 ms")
    form.get_by_role("button", name="Add fault").click()
    expect(page.locator("#faults-table tbody tr")).to_have_count(2)
    rules = admin(live, "GET", "/faults")["rules"]
    assert [(r.get("vendor"), r["action"]) for r in rules] == [
        ("showapi", {"type": "http", "status": 502, "body": "gateway"}),
        (None, {"type": "latency", "ms": 1500}),
    ]
    # a typo in the JSON: the server's reason, nothing added
    form.locator("textarea[name=spec]").fill('{"action": {"type": "latenccy"}}')
    form.get_by_role("button", name="Add fault").click()
    expect(form.locator(".result")).to_contain_text("Refused:")
    page.get_by_role("button", name="Clear all").click()
    expect(page.locator("#fault-list")).to_contain_text("No fault rules")
    assert admin(live, "GET", "/faults")["rules"] == []


# --- clock, credentials, quotas, export -------------------------------------------------------------


def test_clock_credentials_and_tokens(ui: UI, live: LiveServer) -> None:
    sdk_client(live).faceAudit(make_image(None, "png"))
    page = ui.open(live, "state")
    baidu = page.locator("#cred-table tbody tr[data-vendor=baidu][data-id=demo-baidu-api-key]")
    expect(baidu).to_contain_text("live until", timeout=WAIT_MS)  # its token
    trial = page.locator("#cred-table tbody tr[data-id=demo-aioasis-trial]")
    expect(trial).to_contain_text("free 3 · paid 0")  # AI绿洲's own billing
    expect(page.locator("#cred-table tbody tr[data-id=demo-aioasis-daily]")).to_contain_text(
        "daily: 2 of 2 left"
    )
    page.get_by_role("button", name="+1 h").click()
    expect(page.locator("#clock-detail")).to_contain_text("offset 3600 s")
    assert round(admin(live, "GET", "/clock")["offset_s"]) == 3600
    page.get_by_role("button", name="Freeze").click()
    expect(page.locator("#clock-detail")).to_contain_text("frozen")
    assert admin(live, "GET", "/clock")["frozen"] is True
    page.fill("#clock-form input[name=skew]", "1200")
    page.click("#clock-form button[type=submit]")
    expect(page.locator("#clock-detail")).to_contain_text("client skew 1200 s")
    # 30 days on: the token has expired
    page.get_by_role("button", name="+1 day").click()
    page.fill("#clock-form input[name=advance]", str(29 * 86400))
    page.click("#clock-form button[type=submit]")
    expect(baidu).to_contain_text("expired", timeout=WAIT_MS)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Reset simulator").click()
    expect(page.locator("#clock-detail")).to_contain_text("running", timeout=WAIT_MS)
    expect(baidu).not_to_contain_text("live until")
    assert admin(live, "GET", "/clock")["frozen"] is False


def test_export_downloads(ui: UI, live: LiveServer) -> None:
    sdk_client(live).faceAudit(make_image(None, "png"))
    page = ui.open(live, "export")
    with page.expect_download() as dl:
        page.click("#export-har")
    har = json.loads(Path(dl.value.path()).read_text("utf-8"))
    assert [e["request"]["url"].split("?")[0].rsplit("/", 1)[-1] for e in har["log"]["entries"]] == [
        "token",
        "face_audit",
    ]
    with page.expect_download() as dl:
        page.click("#export-jsonl")
    lines = Path(dl.value.path()).read_text("utf-8").splitlines()
    assert [json.loads(line)["operation"] for line in lines] == ["token", "face_audit"]


# --- 5: no console errors on any page ---------------------------------------------------------------


def test_every_view_renders_without_console_errors(ui: UI, live: LiveServer) -> None:
    client = sdk_client(live)
    client.faceAudit(make_image("explicit_with_phone", "jpeg"))
    page = ui.open(live)
    expect(rows(page, "face_audit")).to_have_count(1, timeout=WAIT_MS)
    rows(page, "face_audit").click()
    expect(page.locator("#detail .thumb img")).to_have_js_property("naturalWidth", 160, timeout=WAIT_MS)
    scenarios = admin(live, "GET", "/scenarios")["scenarios"]
    for view in VIEWS:
        page.click(f"#tabs a[data-view={view}]")
        expect(page.locator(f"#view-{view}")).to_be_visible()
        expect(page.locator("#tabs a.active")).to_have_attribute("data-view", view)
    page.click("#tabs a[data-view=scenarios]")
    expect(page.locator(".scenario")).to_have_count(len(scenarios), timeout=WAIT_MS)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.scenario img')].every(i => i.complete && i.naturalWidth === 256)",
        timeout=WAIT_MS,
    )
    page.click("#tabs a[data-view=faults]")
    expect(page.locator("#fault-list")).to_contain_text("No fault rules", timeout=WAIT_MS)
    page.click("#tabs a[data-view=state]")
    expect(page.locator("#cred-table tbody tr").first).to_be_visible(timeout=WAIT_MS)
    page.reload()
    expect(page.locator("#cred-table tbody tr").first).to_be_visible(timeout=WAIT_MS)
    assert ui.errors == []


# --- 6: a phone's width -----------------------------------------------------------------------------


OVERFLOW = """() => {
  const main = document.querySelector('main');
  return {doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,
          main: main.scrollWidth, mainBox: main.clientWidth, width: window.innerWidth};
}"""


def test_a_390px_viewport_has_no_horizontal_overflow(ui: UI, live: LiveServer) -> None:
    sdk_client(live).faceAudit(make_image("explicit_with_phone", "jpeg"))
    requests.post(
        f"{live.url}/2054-3",
        data={
            "showapi_appid": "100001",
            "showapi_sign": "demo-showapi-secret",
            "content": "加微信 13812345678 " * 20,
        },
        timeout=10,
    )
    ui.page.set_viewport_size(PHONE)
    page = ui.open(live)
    expect(page.locator("#entries tbody tr")).to_have_count(3, timeout=WAIT_MS)
    for text in ("face_audit", "2054-3"):
        rows(page, text).click()
        expect(page.locator("#detail")).to_be_visible()
        if text == "face_audit":
            expect(page.locator("#detail .thumb img")).to_have_js_property(
                "naturalWidth", 160, timeout=WAIT_MS
            )
        sizes = page.evaluate(OVERFLOW)
        assert sizes["doc"] <= sizes["width"] and sizes["body"] <= sizes["width"], (text, sizes)
        assert sizes["main"] <= sizes["mainBox"], (text, sizes)
    for view in VIEWS[1:]:
        page.click(f"#tabs a[data-view={view}]")
        expect(page.locator(f"#view-{view}")).to_be_visible()
        if view == "state":
            expect(page.locator("#cred-table tbody tr").first).to_be_visible(timeout=WAIT_MS)
        if view == "scenarios":
            expect(page.locator(".scenario").first).to_be_visible(timeout=WAIT_MS)
        sizes = page.evaluate(OVERFLOW)
        assert sizes["doc"] <= sizes["width"] and sizes["main"] <= sizes["mainBox"], (view, sizes)


# --- the token, for a remote dashboard --------------------------------------------------------------


def test_the_page_asks_for_the_token_once_and_sends_it(ui: UI) -> None:
    server = LiveServer(Settings(seed=0, admin_token="ui-t0k3n")).start()
    try:
        page = ui.page
        page.goto(f"{server.url}/__modsim/ui/")
        dialog = page.locator("#token-dialog")
        expect(dialog).to_be_visible(timeout=WAIT_MS)
        dialog.locator("input[name=token]").fill("wrong")
        dialog.get_by_role("button", name="Use token").click()
        expect(dialog.locator("#token-wrong")).to_be_visible(timeout=WAIT_MS)
        dialog.locator("input[name=token]").fill("ui-t0k3n")
        dialog.get_by_role("button", name="Use token").click()
        expect(page.locator("#live")).to_have_class(re.compile(r"\bon\b"), timeout=WAIT_MS)
        sdk_client(server).faceAudit(make_image("porn", "png"))
        expect(rows(page, "face_audit")).to_have_count(1, timeout=WAIT_MS)
        rows(page, "face_audit").click()
        expect(page.locator("#detail .thumb img")).to_have_js_property("naturalWidth", 160, timeout=WAIT_MS)
        assert page.evaluate("sessionStorage.getItem('modsim-admin-token')") == "ui-t0k3n"
        # a download carries the token too (a plain link could not)
        page.click("#tabs a[data-view=export]")
        with page.expect_download() as dl:
            page.click("#export-jsonl")
        assert len(Path(dl.value.path()).read_text("utf-8").splitlines()) == 2
        # kept for this tab: a reload asks no more
        page.reload()
        expect(page.locator("#live")).to_have_class(re.compile(r"\bon\b"), timeout=WAIT_MS)
        expect(dialog).to_be_hidden()
        expect(rows(page, "face_audit")).to_have_count(1, timeout=WAIT_MS)
    finally:
        server.stop()


# --- 7: the README's screenshot ---------------------------------------------------------------------


def test_screenshot_for_the_readme(ui: UI, tmp_path: Path) -> None:
    """Its own server, so the picture does not depend on the tests before it (sequence numbers).
    ``MODSIM_UPDATE_SCREENSHOT=1`` writes it to docs/img/dashboard.png (the README's picture); otherwise
    to a temporary file, so a test run leaves the working tree as it was."""
    target = SCREENSHOT if os.environ.get("MODSIM_UPDATE_SCREENSHOT") == "1" else tmp_path / "dashboard.png"
    live = LiveServer(Settings(seed=0, validate_responses=True)).start()
    try:
        _screenshot(ui, live, target)
        assert live.sim.schema_violations == []
    finally:
        live.stop()


def _screenshot(ui: UI, live: LiveServer, target: Path) -> None:
    admin(live, "POST", "/clock", {"set": FIXED_TIME, "freeze": True})
    fault = {
        "vendor": "baidu",
        "operation": "face_audit",
        "first_n": 1,
        "action": {"type": "error", "code": 18},
    }
    admin(live, "POST", "/faults", {"rules": [fault]})
    page = ui.open(live)
    client = sdk_client(live)
    assert client.faceAudit(make_image(None, "png"))["error_code"] == 18
    client.faceAudit(make_image("explicit_with_phone", "jpeg"))
    client.faceAudit(["https://img.example.invalid/a.jpg#modsim=porn"])
    requests.post(
        f"{live.url}/2054-3",
        data={
            "showapi_appid": "100001",
            "showapi_sign": "demo-showapi-secret",
            "content": "加微信 13812345678",
        },
        timeout=10,
    )
    requests.post(
        f"{live.url}/fantabulous/touxiangshenhe",
        params={"appkey": "demo-aioasis-trial"},
        data={"images": base64.b64encode(make_image("qrcode_ad", "jpeg")).decode()},
        timeout=10,
    )
    expect(page.locator("#entries tbody tr")).to_have_count(6, timeout=WAIT_MS)
    rows(page, "explicit_with_phone").click()
    expect(page.locator("#detail .thumb img")).to_have_js_property("naturalWidth", 160, timeout=WAIT_MS)
    page.mouse.move(0, 0)
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), animations="disabled", caret="hide")
    with Image.open(target) as im:
        assert (im.format, im.size) == ("PNG", (WIDE["width"], WIDE["height"]))
