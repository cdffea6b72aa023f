"""Issue 15 item 6 (everywhere): HTML error pages on web paths, the JSON shape on the API, no absolute
server path in a message, the favicon, times without microseconds. In process, no browser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.web.pages import _when, is_web_path, public_message


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("errors") / "empty.db"
    with TestClient(create_app(None, f"sqlite:///{database}"), raise_server_exceptions=False) as test_client:
        yield test_client


def test_unknown_web_path_is_an_html_404_page(client: TestClient) -> None:
    """Issue 15 item 6: a 404 on a web path is a page with the navigation, not raw JSON."""
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in response.text and 'id="page-error"' in response.text
    assert '<nav aria-label="Pages">' in response.text and "Content-Security-Policy" in response.headers


def test_bad_parameter_on_a_web_path_is_an_html_page(client: TestClient) -> None:
    response = client.get("/campaigns/not-a-number")
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert "campaign_id" in response.text and "<h1>Bad request</h1>" in response.text


@pytest.mark.parametrize("path", ["/api/no-such", "/api/campaigns/not-a-number", "/uptane/no-such", "/api"])
def test_the_api_keeps_its_json_error_shape(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 422) and response.headers["content-type"] == "application/json"
    assert set(response.json()["error"]) >= {"status", "type", "message"}


def test_web_and_api_paths() -> None:
    assert is_web_path("/") and is_web_path("/fleet/VIN1") and is_web_path("/apiary")
    assert not is_web_path("/api") and not is_web_path("/api/fleet") and not is_web_path("/uptane/director/root.json")
    assert not is_web_path("/openapi.json")


def test_favicon_is_served_and_linked(client: TestClient) -> None:
    """Issue 15 item 6: /favicon.ico (what browsers ask for) and the linked SVG are both served."""
    for path in ("/favicon.ico", "/static/favicon.svg"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
        assert response.text.startswith("<svg")
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/").text


def test_messages_show_no_absolute_server_path(tmp_path: Path) -> None:
    """Issue 15 item 6: a path under the workspace is shown relative to it, any other server path by
    its file name; URL paths (not files on the server) stay as they are."""
    workspace = tmp_path / "ws"
    outside = Path("/usr/lib/evplatform-secret/keys.conf")  # /usr is a folder on any server
    message = (f"{workspace}/models/m1.yaml:12: unknown key 'x'; see '{outside}' and "
               f"sqlite:///{tmp_path}/demo.db; no page /fleet/NOPE")
    shown = public_message(message, workspace)
    assert str(tmp_path) not in shown and "/usr" not in shown
    assert "models/m1.yaml:12: unknown key 'x'" in shown and f"'{outside.name}'" in shown
    assert "demo.db" in shown and "/fleet/NOPE" in shown


def test_an_invalid_workspace_page_names_the_file_relative(tmp_path: Path) -> None:
    """A workspace error on a page names the file inside the workspace, never the server's folders."""
    workspace = tmp_path / "broken"
    workspace.mkdir()
    (workspace / "platform.yaml").write_text("platform: [unclosed\n", encoding="utf-8")
    with TestClient(create_app(workspace, f"sqlite:///{tmp_path / 'x.db'}"), raise_server_exceptions=False) as down:
        response = down.get("/platform")
    assert response.status_code >= 400 and response.headers["content-type"].startswith("text/html")
    assert str(tmp_path) not in response.text
    assert "platform.yaml" in response.text


def test_times_are_utc_without_microseconds() -> None:
    """Issue 15 item 6: the server writes a machine time the browser shows in the viewer's zone."""
    moment = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    for value in (moment, moment.isoformat(), moment.replace(tzinfo=None).isoformat()):
        assert str(_when(value)) == '<time datetime="2026-03-04T05:06:07Z">2026-03-04 05:06:07 UTC</time>'
    assert str(_when(None)) == "—" and str(_when("<b>")) == "&lt;b&gt;"


def test_a_bug_on_a_web_path_is_a_500_page_without_traceback(tmp_path: Path) -> None:
    """A bug answers 500 as a page on a web path and in the JSON shape on the API, never a traceback."""
    app = create_app(None, f"sqlite:///{tmp_path / 'x.db'}")

    def broken() -> None:
        raise RuntimeError(f"bug near {tmp_path}/secret.txt")

    app.add_api_route("/broken", broken)
    app.add_api_route("/api/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as bugged:
        page = bugged.get("/broken")
        api = bugged.get("/api/broken")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Server error</h1>" in page.text and "Traceback" not in page.text and str(tmp_path) not in page.text
    assert api.status_code == 500 and api.json()["error"]["type"] == "InternalError"
