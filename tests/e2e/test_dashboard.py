"""The web dashboard (GET /api/app) in a real browser: Debian's headless chromium driven by
Playwright, against the real local stack. Signs in, uploads through the page, generates, plays
a clip, and keeps screenshots in test-artifacts/dashboard/ for a person to look at."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from media_fixtures import make_video
from support import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "test-artifacts" / "dashboard"
XSS_NAME = "<img src=x onerror=alert(1)>"


def chromium_path() -> str:
    path = shutil.which("chromium")
    if not path:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install -y chromium, as root)")
    return path


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: `make install` installs tests/requirements.txt")
    with sync_playwright() as pw:
        # The system browser, never one Playwright downloads (no internet in CI).
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True)
        yield browser
        browser.close()


def test_dashboard_flow_in_a_real_browser(stack, browser, tmp_path):
    from playwright.sync_api import expect

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    video_file = make_video(tmp_path / "interview.mp4", seconds=20, audio=FIXTURES / "speech_short.ogg")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    dialogs: list[str] = []
    # Our own confirms (deletes) are accepted; anything else (an alert the XSS name ran) is noted.
    page.on("dialog", lambda d: d.accept() if d.type == "confirm" else (dialogs.append(d.message), d.dismiss()))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    uploads: list[str] = []
    page.on("requestfinished", lambda r: uploads.append(r.url) if r.method == "PUT" else None)

    answer = page.goto(f"{stack.base_url}/app")
    assert answer is not None and answer.status == 200
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert f"media-src 'self' http://127.0.0.1:{stack.port + 1}/" in csp, csp

    # Sign in with the key: the header then shows the workspace's account id.
    page.fill("#api-key", stack.api_key)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#account-id")).to_have_text(stack.account_id)
    assert page.evaluate("sessionStorage.getItem('klyph.apiKey')") == stack.api_key
    assert stack.api_key not in page.url and not page.context.cookies()

    # A hostile project name is shown as text and runs nothing.
    page.fill("#project-name", XSS_NAME)
    page.click("#create-project button")
    expect(page.locator("#project-title")).to_have_text(XSS_NAME)
    expect(page.locator("#projects a", has_text=XSS_NAME)).to_have_count(1)
    assert page.locator("#projects img, #project-title img").count() == 0

    page.fill("#project-name", "Spring Talks")
    page.click("#create-project button")
    expect(page.locator("#project-title")).to_have_text("Spring Talks")

    # Upload through the page: straight to the presigned URL, then the probe's verdict.
    page.set_input_files("#video-file", str(video_file))
    # What the progress bar showed, sampled while it is on screen (the page moves on once uploaded).
    page.evaluate("""() => { window.seenProgress = []; setInterval(() => {
        const bar = document.getElementById('upload-progress');
        if (bar && !bar.hidden) window.seenProgress.push(bar.value); }, 5); }""")
    page.click("#upload button[type=submit]")
    expect(page.locator("#verdict.ok")).to_contain_text("Ready to submit", timeout=60_000)
    assert any(f":{stack.port + 1}/" in url for url in uploads), f"the bytes went to S3 by PUT: {uploads}"
    expect(page.locator("#videos .status")).to_have_text("uploaded")
    assert max(page.evaluate("window.seenProgress")) == 1, "the progress bar reached 100%"
    page.screenshot(path=str(ARTEFACTS / "1-uploaded.png"), full_page=True)

    # Generate from the form built out of the OpenAPI schema: every submit option is there.
    for name in ("maxClips", "minDuration", "maxDuration", "aspectRatio", "customInstructions", "captions",
                 "reframe", "language", "allowUpscale", "thumbnailTitle"):
        assert page.locator(f"#generate-form [name={name}]").count() == 1, name
    page.fill("#generate-form [name=maxClips]", "2")
    page.fill("#generate-form [name=minDuration]", "5")
    page.fill("#generate-form [name=maxDuration]", "10")
    page.click("#generate-button")
    expect(page.locator("#job-running")).to_be_visible(timeout=10_000)
    page.screenshot(path=str(ARTEFACTS / "2-running.png"), full_page=True)
    expect(page.locator("#job-done")).to_be_visible(timeout=180_000)
    clips = page.locator(".clip")
    expect(clips).not_to_have_count(0)
    first = clips.first
    assert first.locator("img").get_attribute("src"), "a thumbnail"
    expect(first.locator(".clip-title")).not_to_be_empty()
    page.screenshot(path=str(ARTEFACTS / "3-clips.png"), full_page=True)

    # Play in place: the signed preview loads (ready state, duration) with the VTT track.
    expected = float(first.get_attribute("data-duration"))
    first.locator("button.play").click()
    player = first.locator("video")
    page.wait_for_function("v => v.readyState >= 2 && v.duration > 0", arg=player.element_handle(), timeout=30_000)
    played = player.evaluate("v => ({duration: v.duration, tracks: v.textTracks.length, ready: v.readyState})")
    assert abs(played["duration"] - expected) < 0.5, (played, expected)
    assert played["tracks"] == 1
    # The caption track (off at first: captions are burned in) loads across origins under CORS and the CSP.
    page.wait_for_function("v => { const t = v.textTracks[0]; t.mode = 'hidden'; return t.cues && t.cues.length > 0; }",
                           arg=player.element_handle(), timeout=10_000)
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTEFACTS / "4-playing.png"), full_page=False)

    # The download links answer.
    for link in first.locator(".links a").all():
        href = link.get_attribute("href")
        assert requests.get(href, timeout=30).status_code == 200, link.text_content()

    # Into an editor: the clip's timeline downloads through the API (the key in a header).
    first.locator("select.export-format").select_option("fcpxml")
    with page.expect_download() as download:
        first.locator("button.export").click()
    timeline = download.value
    assert timeline.suggested_filename.endswith(".fcpxml"), timeline.suggested_filename
    assert "<fcpxml" in Path(timeline.path()).read_text(encoding="utf-8")

    # Edit in place: a new title and an end 1 s earlier render version 2 (update-clip); a misheard
    # word corrected renders version 3 (update-transcript), and the captions carry it.
    card_id = first.get_attribute("data-clip")
    card = page.locator(f"article[data-clip='{card_id}']")
    card.locator("button.edit").click()
    end_input = card.locator("form.edit-clip input[name=endSeconds]")
    end_input.fill(f"{float(end_input.input_value()) - 1:.2f}")
    card.locator("form.edit-clip input[name=title]").fill("Edited in the browser")
    card.locator("form.edit-clip button[type=submit]").click()
    expect(card.locator(".clip-title")).to_have_text("Edited in the browser", timeout=90_000)
    expect(card.locator(".version")).to_have_text("version 2")
    card.locator("button.edit").click()
    card.locator("button.fix-words").click()
    card.locator(".word-list input").first.fill("Klyphed")
    card.locator("form.fix-words-form button[type=submit]").click()
    expect(card.locator(".version")).to_have_text("version 3", timeout=90_000)
    srt = card.locator(".links a", has_text="SRT").get_attribute("href")
    assert "Klyphed" in requests.get(srt, timeout=30).text
    page.screenshot(path=str(ARTEFACTS / "4b-edited.png"), full_page=True)

    # Settings: the account id, and a webhook whose secret is shown once.
    page.click("#nav-settings")
    expect(page.locator("#settings-account-id")).to_have_text(stack.account_id)
    page.fill("#webhook-url", "http://127.0.0.1:9/klyph")
    page.click("#create-webhook button[type=submit]")
    expect(page.locator("#webhook-secret")).to_contain_text("whsec_")
    expect(page.locator("#webhooks tbody tr")).to_have_count(1)
    page.click("#webhooks button:text('Deliveries')")
    expect(page.locator("#deliveries")).to_contain_text("Nothing sent yet.")
    page.screenshot(path=str(ARTEFACTS / "5-settings.png"), full_page=True)
    # Deleted again, so the session's other tests' jobs send nothing to it.
    page.click("#webhooks button:text('Delete')")
    expect(page.locator("#webhooks")).to_have_count(0)
    assert requests.get(f"{stack.base_url}/dev/list-webhooks", params={"accountId": stack.account_id}, timeout=10,
                        headers={"Authorization": f"Bearer {stack.api_key}"}).json()["webhooks"] == []

    assert not dialogs, f"the XSS name ran: {dialogs}"
    assert not problems, problems
