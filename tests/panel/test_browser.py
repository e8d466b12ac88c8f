"""The panel in a real headless browser (Debian's chromium + chromedriver, driven by Selenium).

Type a prompt and see the analysis, change a field of it, generate with Enter (procedural, 4 bars),
watch the stages to done, see each stem's waveform, play all stems together (the page reports that
audio started and that the audio clock advances), solo a stem, stop with Space, move the selection
with the arrows, cancel and retry a job another door sent. Screenshots of the views are saved under
``$MAGE_TEST_ARTEFACTS/panel`` (else the test's tmp folder) and their paths printed.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.panel.conftest import Panel
from tests.server.conftest import DaemonProc, submit

PROMPT = "deep house groove at 122 BPM in G minor"


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed (setup.sh installs them: "
                    "apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--autoplay-policy=no-user-gesture-required", "--window-size=1400,1000",
                "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    b = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield b
    finally:
        b.quit()


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    root = Path(os.environ["MAGE_TEST_ARTEFACTS"]) / "panel" if os.environ.get("MAGE_TEST_ARTEFACTS") \
        else tmp_path / "screenshots"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _wait(b: Any, what: Callable[[Any], Any], timeout_s: float = 30.0, why: str = "") -> Any:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # the page redraws its lists as events arrive: an element found a moment ago may be replaced
    return WebDriverWait(b, timeout_s, poll_frequency=0.05, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException)).until(lambda d: what(d), message=why)


def _job_ids(b: Any) -> set[str]:
    return set(b.execute_script("return Array.from(document.querySelectorAll('li.job'), li => li.dataset.jobId)"))


def _css(b: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return b.find_element(By.CSS_SELECTOR, selector)


def _all(b: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(b.find_elements(By.CSS_SELECTOR, selector))


def _keys(b: Any, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(b).send_keys(*keys).perform()


def _shot(b: Any, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    assert b.save_screenshot(str(path)), path
    print(f"screenshot: {path}")
    return path


def test_write_generate_watch_and_audition(browser: Any, panel: Panel, panel_daemon: DaemonProc, artefacts: Path):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    b = browser
    b.get(panel.daemon.panel_url)
    _wait(b, lambda d: _css(d, "body").get_attribute("data-ready") == "true", why="the page did not start")
    assert "token=" not in b.current_url  # the token went into a cookie; the address bar no longer shows it
    _wait(b, lambda d: _css(d, "#connection").get_attribute("data-state") == "live", why="no event stream")

    # -- Write: the analysis as the prompt is typed, one field changed by hand ---------------------------
    prompt = _css(b, "#prompt")
    prompt.send_keys(PROMPT)
    _wait(b, lambda d: _css(d, "#analysis").get_attribute("data-state") == "ready"
          and _css(d, "#analysis").get_attribute("data-prompt") == PROMPT, 60, "the analysis did not come")
    values = {name: _css(b, f"[data-field={name}]").get_attribute("value")
              for name in ("genre", "bpm", "key", "mode", "time_signature", "vocals")}
    assert values == {"genre": "deep house", "bpm": "122", "key": "G", "mode": "minor", "time_signature": "4/4",
                      "vocals": "false"}
    mood = _css(b, "[data-field=mood]")
    mood.clear()
    mood.send_keys("dark", Keys.TAB)
    assert "pinned" in mood.find_element("xpath", "..").get_attribute("class")
    bars = _css(b, "#bars")
    bars.clear()
    bars.send_keys("4")
    _css(b, "#seed").send_keys("7")
    Select(_css(b, "#backend")).select_by_value("procedural")
    _shot(b, artefacts, "write")

    prompt.click()
    _keys(b, Keys.ENTER)  # Enter generates
    job_id = _wait(b, lambda d: _css(d, "#view-write").get_attribute("data-last-job"), 15, "Enter queued nothing")
    _wait(b, lambda d: _all(d, "#last-job .stage"), 60, "no stage shown while the job runs")
    _shot(b, artefacts, "write-progress")
    status, job = panel.api("GET", f"/api/jobs/{job_id}")
    assert job["job"]["options"] == {"mood": ["dark"], "bars": 4, "backend": "procedural"}
    assert job["job"]["seed"] == 7

    # -- Jobs: progress per stage to done, the waveforms ------------------------------------------------
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(b).key_down(Keys.ALT).send_keys("j").key_up(Keys.ALT).perform()
    _wait(b, lambda d: not _css(d, "#view-jobs").get_attribute("hidden"), 5, "Alt+J did not show the jobs")
    item = f'li.job[data-job-id="{job_id}"]'
    _wait(b, lambda d: _css(d, item).get_attribute("data-state") == "done", 180, "the job did not finish")
    stages = [c.get_attribute("data-stage") for c in _all(b, f"{item} .stage")]
    for stage in ("analyze", "generate", "write"):
        assert stage in stages
    assert all(c.get_attribute("data-done") == "true" for c in _all(b, f"{item} .stage"))
    _wait(b, lambda d: _css(d, "#audition").get_attribute("data-loaded") == "true", 60, "the stems did not load")
    rows = _all(b, "#audition .stem")
    assert [r.get_attribute("data-stem") for r in rows] == ["drums", "bass", "other", "mix"]
    assert all(r.find_element("css selector", "canvas").get_attribute("data-drawn") == "true" for r in rows)
    _shot(b, artefacts, "jobs")

    # -- play: all stems on one clock, the clock advances; solo; Space stops ----------------------------
    audition = _css(b, "#audition")
    _keys(b, " ")
    _wait(b, lambda d: audition.get_attribute("data-audio") == "playing", 10, "Space did not start the audio")
    started = float(audition.get_attribute("data-audio-started"))
    clock = float(_wait(b, lambda d: audition.get_attribute("data-audio-clock"), 5))
    time.sleep(0.6)
    later = float(audition.get_attribute("data-audio-clock"))
    assert later > clock + 0.3, (clock, later)  # the audio clock runs
    assert later > started
    assert float(audition.get_attribute("data-audio-position")) > 0.0
    audible = {r.get_attribute("data-stem"): r.get_attribute("data-audible") for r in _all(b, "#audition .stem")}
    assert audible == {"drums": "true", "bass": "true", "other": "true", "mix": "false"}  # the stems, not their sum
    bass = _css(b, '#audition .stem[data-stem="bass"]')
    bass.find_element("css selector", ".solo").click()
    audible = {r.get_attribute("data-stem"): r.get_attribute("data-audible") for r in _all(b, "#audition .stem")}
    assert audible == {"drums": "false", "bass": "true", "other": "false", "mix": "false"}
    _shot(b, artefacts, "playing")
    _keys(b, " ")
    _wait(b, lambda d: audition.get_attribute("data-audio") == "ready", 5, "Space did not stop the audio")

    # -- a job from another door shows up; arrows move the selection ------------------------------------
    with panel_daemon.client() as client:
        other = submit(client, "/mage/test/job", "browser-osc-1", "sleep", json.dumps({"seconds": 0.2}))
    _wait(b, lambda d: _all(d, f'li.job[data-job-id="{other}"]'), 15, "a job sent over OSC did not appear")
    view = _css(b, "#view-jobs")
    assert view.get_attribute("data-selected") == job_id  # another door's job takes no selection
    _keys(b, Keys.ARROW_UP)
    assert view.get_attribute("data-selected") == other
    _keys(b, Keys.ARROW_DOWN)
    assert view.get_attribute("data-selected") == job_id

    # -- cancel and retry, errors in words --------------------------------------------------------------
    with panel_daemon.client() as client:
        slow = submit(client, "/mage/test/job", "browser-osc-2", "sleep", json.dumps({"seconds": 60, "steps": 60}))
    slow_item = f'li.job[data-job-id="{slow}"]'
    _wait(b, lambda d: _css(d, slow_item).get_attribute("data-state") == "running"
          and _all(d, f"{slow_item} button.cancel"), 15, "no Cancel for a running job")
    _css(b, f"{slow_item} button.cancel").click()
    _wait(b, lambda d: _css(d, slow_item).get_attribute("data-state") == "cancelled", 15, "Cancel did nothing")
    assert _css(b, f"{slow_item} .error").text == "Cancelled."
    before = _job_ids(b)
    _css(b, f"{slow_item} button.retry").click()
    retried = _wait(b, lambda d: _job_ids(d) - before, 15, "Retry queued nothing").pop()
    assert _css(b, "#view-jobs").get_attribute("data-selected") == retried  # the panel's own job is selected
    assert _css(b, f'li.job[data-job-id="{retried}"]').get_attribute("data-state") in ("queued", "running")
    _shot(b, artefacts, "jobs-cancelled")
    panel.api("POST", f"/api/jobs/{retried}/cancel")

    severe = [e for e in b.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe


def test_a_daw_context_prefills_the_write_view(browser: Any, panel: Panel, panel_daemon: DaemonProc,
                                              artefacts: Path):
    with panel_daemon.client() as daw:
        daw.send("/mage/daw/context", 100.0, 3, 4, 5.0, "reaper", "song-1")
        assert daw.wait_for(lambda a, p: a == "/mage/daw/context/ack", 5.0)[0] == "/mage/daw/context/ack"
    b = browser
    b.get(panel.daemon.panel_url)
    _wait(b, lambda d: _css(d, "#view-write").get_attribute("data-daws") == "1", 15, "the DAW was not listed")
    reaper = _css(b, 'input[name=send_to][value="reaper"]')
    assert reaper.is_selected()  # the DAW that reported is where a clip goes by default
    assert "REAPER" in reaper.find_element("xpath", "..").text
    for field, value in (("bpm", "100"), ("time_signature", "3/4")):
        box = _css(b, f"[data-field={field}]")
        assert box.get_attribute("value") == value
        assert box.find_element("xpath", "..").get_attribute("data-source") == "DAW"
    _css(b, "#prompt").send_keys(PROMPT)
    _wait(b, lambda d: _css(d, "#analysis").get_attribute("data-state") == "ready", 60, "no analysis")
    assert _css(b, "[data-field=bpm]").get_attribute("value") == "100"  # the DAW's tempo stays; the prompt's is 122
    assert _css(b, "[data-field=genre]").get_attribute("value") == "deep house"
    _shot(b, artefacts, "write-daw")
    _css(b, 'input[name=send_to][value="library"]').click()
    _css(b, "#prompt").click()
    from selenium.webdriver.common.keys import Keys

    _keys(b, Keys.ENTER)
    job_id = _wait(b, lambda d: _css(d, "#view-write").get_attribute("data-last-job"), 15, "Enter queued nothing")
    status, data = panel.api("GET", f"/api/jobs/{job_id}")
    assert data["job"]["daw"] is None  # library only, though a DAW reported
    assert data["job"]["options"]["bpm"] == 100 and data["job"]["options"]["time_signature"] == "3/4"
    panel.api("POST", f"/api/jobs/{job_id}/cancel")
