"""The Library and Arrange views in a real headless browser (Debian's chromium + chromedriver, via Selenium).

Generate a short clip (procedural, 4 bars) from the Write view; it appears in the Library with a waveform per
stem; Space plays it (the page reports that audio started and the audio clock advances) and stops it; filter
by key, with and without the compatible keys; rate and tag it; a variation of it, followed to the clip it made
and back through the lineage; the arrows move the selection; "Arrange around this": a song of Intro (a library
clip) / Focus / Outro (fill the gap), rendered and mastered, then played in the page and downloaded by job id.
Screenshots of both views are saved under ``$MAGE_TEST_ARTEFACTS/panel`` (else the test's tmp folder).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.panel.conftest import Panel
from tests.panel.test_browser import _all, _css, _keys, _shot, _wait, artefacts, browser  # noqa: F401  (fixtures)

PROMPT = "deep house groove at 122 BPM in G minor"


def _job_done(panel: Panel, job_id: str, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (state := panel.api("GET", f"/api/jobs/{job_id}")[1]["job"]["state"]) not in ("done", "failed"):
        assert time.monotonic() < deadline, f"job {job_id} did not end"
        time.sleep(0.1)
    assert state == "done", panel.api("GET", f"/api/jobs/{job_id}")[1]


def _rows(b: Any) -> list[str]:
    return list(b.execute_script(
        "return Array.from(document.querySelectorAll('#clips .clip-row[data-clip-id]'), r => r.dataset.clipId)"))


def _filter_key(b: Any, key: str, compatible: bool) -> list[str]:
    """Choose a key (and the compatible box) in the filters; the rows once the list shows that search."""
    from selenium.webdriver.support.ui import Select

    box = _css(b, "#library-compatible")
    if box.is_selected() != compatible:
        box.click()
    Select(_css(b, "#library-key")).select_by_value(key)
    query = f"key={key.replace(' ', '+')}" + ("&compatible=1" if compatible else "")
    _wait(b, lambda d: _css(d, "#view-library").get_attribute("data-query") == query
          and _css(d, "#clips").get_attribute("data-render-ms"), 15,
          f"the list did not show {query}: {_css(b, '#view-library').get_attribute('data-query')}")
    return _rows(b)


def _playing_clock_advances(b: Any, selector: str) -> None:
    player = _css(b, selector)
    _wait(b, lambda d: player.get_attribute("data-audio") == "playing", 15, f"{selector} did not start playing")
    clock = float(_wait(b, lambda d: player.get_attribute("data-audio-clock"), 5))
    time.sleep(0.5)
    later = float(player.get_attribute("data-audio-clock"))
    assert later > clock + 0.25, (clock, later)  # the audio clock runs
    assert float(player.get_attribute("data-audio-position")) > 0.0


def test_library_and_arrange_in_the_browser(browser: Any, panel: Panel, artefacts: Path):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    b = browser
    b.get(panel.daemon.panel_url)
    _wait(b, lambda d: _css(d, "body").get_attribute("data-ready") == "true", why="the page did not start")
    _wait(b, lambda d: _css(d, "#connection").get_attribute("data-state") == "live", why="no event stream")

    # -- a short clip from the Write view ---------------------------------------------------------------
    _css(b, "#prompt").send_keys(PROMPT)
    bars = _css(b, "#bars")
    bars.clear()
    bars.send_keys("4")
    _css(b, "#seed").send_keys("11")
    _wait(b, lambda d: _all(d, '#backend option[value="procedural"]'), 30, "the backends were not listed")
    Select(_css(b, "#backend")).select_by_value("procedural")
    _css(b, "#prompt").click()
    _keys(b, Keys.ENTER)
    job_id = _wait(b, lambda d: _css(d, "#view-write").get_attribute("data-last-job"), 15, "Enter queued nothing")
    _job_done(panel, job_id)
    source = panel.api("GET", f"/api/jobs/{job_id}/clip")[1]["clip"]

    # -- it is in the Library, with a waveform per stem; Space plays it ---------------------------------
    ActionChains(b).key_down(Keys.ALT).send_keys("l").key_up(Keys.ALT).perform()
    _wait(b, lambda d: not _css(d, "#view-library").get_attribute("hidden"), 5, "Alt+L did not show the library")
    row = f'#clips .clip-row[data-clip-id="{source["id"]}"]'
    _wait(b, lambda d: _all(d, row), 30, "the new clip is not in the library's list")
    _css(b, row).click()
    detail = _css(b, "#clip-detail")
    _wait(b, lambda d: detail.get_attribute("data-clip-id") == source["id"], 15, "the clip's detail did not open")
    assert _css(b, "#clip-title").get_attribute("value") == PROMPT
    _wait(b, lambda d: _css(d, "#library-audition").get_attribute("data-loaded") == "true", 60, "no stems")
    stems = _all(b, "#library-audition .stem")
    assert [s.get_attribute("data-stem") for s in stems] == ["drums", "bass", "other", "mix"]
    assert all(s.find_element("css selector", "canvas").get_attribute("data-drawn") == "true" for s in stems)
    assert _css(b, row).get_attribute("aria-selected") == "true"
    _css(b, "#clips").click()
    _keys(b, " ")
    _playing_clock_advances(b, "#library-audition")
    _shot(b, artefacts, "library")
    _keys(b, " ")
    _wait(b, lambda d: _css(d, "#library-audition").get_attribute("data-audio") == "ready", 5, "Space did not stop")

    # -- filter by key: G minor is 6A; Bb major (6B) is its relative major, C major (8B) is far off -------
    assert source["id"] in _filter_key(b, "G minor", False)
    assert source["id"] not in _filter_key(b, "Bb major", False)
    assert source["id"] in _filter_key(b, "Bb major", True)
    assert _filter_key(b, "C major", True) == []
    assert _css(b, "#library-count").text == "0 clips"
    _shot(b, artefacts, "library-filtered")
    _css(b, "#library-filters button[type=reset]").click()
    _wait(b, lambda d: _css(d, "#view-library").get_attribute("data-query") == "" and _all(d, row), 15)
    _css(b, row).click()
    _wait(b, lambda d: detail.get_attribute("data-clip-id") == source["id"], 15)

    # -- rate and tag it; extend and repaint say why they cannot run here ---------------------------------
    _css(b, '#clip-rating button[data-rating="4"]').click()
    _wait(b, lambda d: _css(d, "#clip-rating").get_attribute("data-rating") == "4", 10, "the rating did not stick")
    _css(b, "#clip-tag").send_keys("Set Opener", Keys.ENTER)
    _wait(b, lambda d: _all(d, '#clip-tags .chip[data-tag="set-opener"]'), 10, "the tag did not stick")
    stored = panel.api("GET", f"/api/library/clips/{source['id']}")[1]["clip"]
    assert (stored["rating"], stored["tags"]) == (4, ["set-opener"])
    for action in ("extend", "repaint"):
        button = _css(b, f"#clip-{action}")
        assert not button.is_enabled() and "acestep" in button.get_attribute("title")

    # -- a variation, followed to its clip and back through the lineage ----------------------------------
    _css(b, "#clip-variation").click()
    made = _wait(b, lambda d: _all(d, "#clip-jobs li[data-state=done] a[data-clip-id]"), 180, "no variation made")
    variation_id = made[0].get_attribute("data-clip-id")
    assert variation_id != source["id"]
    made[0].click()
    _wait(b, lambda d: detail.get_attribute("data-clip-id") == variation_id, 15, "the variation did not open")
    link = _wait(b, lambda d: _all(d, '#clip-lineage .made-from[data-relation="variation_of"] a'), 10)[0]
    assert link.get_attribute("data-clip-id") == source["id"] and link.text == PROMPT
    link.click()
    _wait(b, lambda d: detail.get_attribute("data-clip-id") == source["id"], 15, "the lineage link went nowhere")
    _wait(b, lambda d: _all(d, f'#clip-lineage .made a[data-clip-id="{variation_id}"]'), 10)
    _wait(b, lambda d: _rows(d) == [variation_id, source["id"]], 15, "the list does not show both, newest first")
    view = _css(b, "#view-library")
    _keys(b, Keys.ARROW_UP)  # arrows move the selection through the list
    _wait(b, lambda d: view.get_attribute("data-selected") == variation_id, 5, "↑ did not select the newer clip")
    _wait(b, lambda d: detail.get_attribute("data-clip-id") == variation_id, 15)
    _keys(b, Keys.ARROW_DOWN)
    _wait(b, lambda d: view.get_attribute("data-selected") == source["id"], 5, "↓ did not select the older clip")
    _wait(b, lambda d: detail.get_attribute("data-clip-id") == source["id"], 15)

    # -- Arrange: Intro (a library clip), the focus, Outro (fill the gap); render, play, download ---------
    _css(b, "#clip-arrange").click()
    _wait(b, lambda d: not _css(d, "#view-arrange").get_attribute("hidden"), 5, "Arrange was not shown")
    _wait(b, lambda d: _css(d, "#view-arrange").get_attribute("data-slots") == f"focus:{source['id']}", 5)
    _css(b, '.slot[data-role="intro"] button.choose').click()
    pick = f'#picker-results li[data-clip-id="{variation_id}"]'
    _wait(b, lambda d: _all(d, pick), 15, "the variation is not offered for the intro")
    _css(b, pick).click()
    _css(b, '.slot[data-role="outro"] button.fill').click()
    _wait(b, lambda d: _all(d, '.slot[data-role="outro"][data-clip-id]'), 180, "the outro was not filled")
    slots = _css(b, "#view-arrange").get_attribute("data-slots").split()
    assert [s.split(":")[0] for s in slots] == ["intro", "focus", "outro"]
    assert slots[:2] == [f"intro:{variation_id}", f"focus:{source['id']}"]
    _css(b, '.junction[data-owner="intro"] input').send_keys(Keys.CONTROL, "a", Keys.NULL, "1", Keys.TAB)
    _wait(b, lambda d: _css(d, '.junction[data-owner="intro"] input').get_attribute("value") == "1", 5)
    _css(b, "#song-name").clear()
    _css(b, "#song-name").send_keys("browser song")
    _css(b, "#song-render").click()
    _wait(b, lambda d: _css(d, "#render-job").get_attribute("data-state") == "done", 180, "the render did not end")
    _wait(b, lambda d: _css(d, "#song-audition").get_attribute("data-loaded") == "true", 60, "the song did not load")
    render_job = _css(b, "#view-arrange").get_attribute("data-render-job")
    download = _css(b, "#song-download")
    assert download.is_displayed()
    assert download.get_attribute("href").endswith(f"/api/songs/renders/{render_job}/download")
    _keys(b, " ")
    _playing_clock_advances(b, "#song-audition")
    _shot(b, artefacts, "arrange")
    _keys(b, " ")

    song_id = _css(b, "#view-arrange").get_attribute("data-song-id")
    song = panel.api("GET", f"/api/songs/{song_id}")[1]["song"]
    assert song["name"] == "browser song"
    assert [s["role"] for s in song["document"]["slots"]] == ["intro", "focus", "outro"]
    assert song["document"]["slots"][0]["junction"] == {"fade_s": 1.0}
    status, headers, body = panel.request("GET", f"/api/songs/renders/{render_job}/download")
    assert status == 200 and headers["content-type"] == "audio/wav" and body[:4] == b"RIFF"

    severe = [e for e in b.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe
