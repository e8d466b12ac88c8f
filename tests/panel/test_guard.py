"""The panel refuses what a web site open in the same browser could send: real HTTP to a real daemon.

No token, a wrong token, a foreign Origin (CSRF), a rebinding Host (DNS rebinding), a form's
content type: each refused with 403 and the reason, on the page, the API, the event stream, the
static files and the audio alike; the token opens the page once and then lives in a cookie.
"""

from __future__ import annotations

import json
import socket

import pytest

from tests.panel.conftest import Panel

# Every kind of address the panel serves.
PATHS = ["/", "/api/session", "/api/jobs", "/api/events", "/static/js/main.js", "/api/jobs/0123456789abcdef/stems",
         "/api/jobs/0123456789abcdef/stems/drums/audio"]


@pytest.mark.parametrize("path", PATHS)
def test_no_token_is_refused_everywhere(panel: Panel, path: str):
    status, headers, body = panel.request("GET", path, token=False)
    assert status == 403
    assert b"token" in body
    if path.startswith("/api/"):
        assert json.loads(body)["error"]["code"] == "no_token"


@pytest.mark.parametrize("how", ["query", "header", "cookie"])
def test_a_wrong_token_is_refused(panel: Panel, how: str):
    wrong = panel.token[:-4] + ("AAAA" if not panel.token.endswith("AAAA") else "BBBB")
    path, headers = "/api/session", {}
    if how == "query":
        path += f"?token={wrong}"
    elif how == "header":
        headers["Authorization"] = f"token {wrong}"
    else:
        headers["Cookie"] = f"mage_panel_{panel.port}={wrong}"
    status, _, body = panel.request("GET", path, token=False, headers=headers)
    assert status == 403 and json.loads(body)["error"]["code"] == "no_token"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1:1", "localhost.evil.example:{port}",
                                  "{port}", ""])
def test_a_rebinding_host_is_refused_even_with_the_token(panel: Panel, path: str, host: str):
    status, _, body = panel.request("GET", path, host=host.format(port=panel.port))
    assert status == 403
    assert b"bad_host" in body or b"Host header" in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_the_panel_answers_to_its_loopback_names(panel: Panel, host: str):
    status, _, _ = panel.request("GET", "/api/session", host=host.format(port=panel.port))
    assert status == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:1", "https://127.0.0.1:{port}",
                                    "http://localhost.evil.example:{port}", "null"])
@pytest.mark.parametrize("method,path", [("GET", "/api/session"), ("GET", "/api/events"), ("POST", "/api/analyze"),
                                         ("POST", "/api/generate"), ("POST", "/api/jobs/0123456789abcdef/cancel")])
def test_a_foreign_origin_is_refused_even_with_the_token(panel: Panel, origin: str, method: str, path: str):
    body = {"prompt": "deep house", "req_id": "panel-csrf"} if method == "POST" else None
    status, _, raw = panel.request(method, path, body=body, headers={"Origin": origin.format(port=panel.port)})
    assert status == 403
    assert json.loads(raw)["error"]["code"] == "bad_origin"


def test_its_own_origin_is_served(panel: Panel):
    status, data = panel.api("POST", "/api/analyze", {"prompt": "deep house at 122 BPM in G minor"},
                             headers={"Origin": panel.origin})
    assert status == 200, data
    assert data["analysis"]["bpm"] == 122.0


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                          "text/plain", None])
def test_a_post_that_a_form_could_send_is_refused(panel: Panel, content_type: str | None):
    status, _, raw = panel.request("POST", "/api/generate", body=b'{"prompt": "x", "req_id": "panel-form"}',
                                   content_type=content_type)
    assert status == 403
    assert json.loads(raw)["error"]["code"] == "bad_content_type"


def test_the_token_opens_the_page_once_then_a_cookie_carries_it(panel: Panel):
    status, headers, _ = panel.request("GET", f"/?token={panel.token}#jobs", token=False)
    assert status == 303
    assert headers["location"] == "/" and panel.token not in headers["location"]
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"mage_panel_{panel.port}={panel.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    jar = {"Cookie": cookie.split(";", 1)[0]}
    for path in ("/", "/api/session", "/static/panel.css"):
        status, headers, _ = panel.request("GET", path, token=False, headers=jar)
        assert status == 200, path
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"


def test_the_panel_listens_on_loopback_only(panel: Panel):
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:  # the address this machine sends from by default (connecting a UDP socket sends nothing)
            probe.connect(("192.0.2.1", 9))
            addresses.add(probe.getsockname()[0])
        except OSError:
            pass
    addresses = {a for a in addresses if not a.startswith("127.") and a != "0.0.0.0"}
    if not addresses:
        pytest.skip("this machine has no IPv4 address besides loopback to try the panel's port on")
    for address in addresses:
        with pytest.raises(OSError):
            socket.create_connection((address, panel.port), timeout=1.0).close()


def test_static_files_stay_in_their_folder(panel: Panel):
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2f..%2fconfig.py", "/static/"):
        status, _, body = panel.request("GET", path)
        assert status in (403, 404), (path, status)
        assert b"import" not in body
