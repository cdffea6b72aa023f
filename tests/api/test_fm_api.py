"""Issue 15 section 1: the variability engine over HTTP (``/api/fm``): analyses, configurator sessions, uploads.

Expected answers come from the CLI's ``--json`` output on the same file (``fm analyze``,
``fm configure``), never from numbers written here; the scenarios (which feature to select to see
a forced one, which to select next to contradict it) are found on the model itself, so the same
tests run on the demo and on the second platform (tests/any_platform/lumen).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.support import bearer, error_of
from evplatform.api import create_app
from evplatform.cli.fm import register
from evplatform.clock import FixedClock
from evplatform.errors import EvplatformError
from evplatform.service.configurator import IDLE_TIMEOUT, UPLOAD_MAX_BYTES
from evplatform.variability.formats import format_model, load_model
from evplatform.workspace import demo_path, load_workspace

LUMEN = Path(__file__).resolve().parents[1] / "any_platform" / "lumen"
WORKSPACES = {"demo": None, "lumen": LUMEN}
_APP = typer.Typer()
register(_APP)
#: ``fm analyze`` op → key of ``GET /api/fm/analysis``.
OPS = {"valid": "valid", "core": "core", "dead": "dead", "false-optional": "false_optional",
       "atomic-sets": "atomic_sets", "count": "count"}


def cli(*args: str) -> Any:
    """``evplatform fm ARGS --json`` in process, its JSON; a project error is raised as it is."""
    result = CliRunner().invoke(_APP, ["fm", *args, "--json"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def model_file(workspace: Path | None) -> Path:
    return load_workspace(workspace).root / "features.uvl"


@pytest.fixture(params=sorted(WORKSPACES))
def workspace(request: pytest.FixtureRequest) -> Path | None:
    path: Path | None = WORKSPACES[request.param]
    return path


@pytest.fixture
def ws_client(workspace: Path | None, db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(workspace, db_url)) as test_client:
        yield test_client


def open_session(client: TestClient, token: str, **body: str) -> dict[str, Any]:
    response = client.post("/api/fm/sessions", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    state: dict[str, Any] = response.json()
    return state


def decide(client: TestClient, token: str, session: str, **body: list[str]) -> Any:
    return client.post(f"/api/fm/sessions/{session}/decisions", json=body, headers=bearer(token))


def a_selection_forcing(client: TestClient, token: str, session: dict[str, Any]
                        ) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An open feature whose selection forces another open feature (found on the model), the forced
    feature's row and the session state after selecting it."""
    for candidate in session["open"]:
        state = decide(client, token, session["id"], select=[candidate]).json()
        was_open = set(session["open"])
        for row in state["forced"]:
            if row["feature"] in was_open and row["decisions"]:
                return candidate, row, state
        decide(client, token, session["id"], retract=[candidate])
    raise AssertionError("no open feature forces another one")


# --- analyses ------------------------------------------------------------------------------------


def test_analysis_is_the_clis_on_the_same_file(ws_client: TestClient, workspace: Path | None) -> None:
    """Issue 15 item 1: valid, core, dead, false-optional, atomic sets and count, as ``fm analyze --json``."""
    response = ws_client.get("/api/fm/analysis")  # a read: no token
    assert response.status_code == 200, response.text
    data = response.json()
    file = model_file(workspace)
    for op, key in OPS.items():
        assert data[key] == cli("analyze", str(file), "--op", op)["result"], op
    assert data["file"] == "features.uvl"
    assert data["features"] == cli("analyze", str(file), "--op", "valid")["features"]
    assert data["explanations"]["invalid"] is None and data["valid"] is True


def test_a_dead_feature_is_explained_with_its_lines(client: TestClient, tokens: dict[str, str]) -> None:
    """Issue 15 item 1: why a feature is dead, each reason naming the line of the uploaded file."""
    text = ("features\n    Car\n        mandatory\n            Engine\n        optional\n            Turbo\n"
            "            Eco\n\nconstraints\n    Turbo => !Engine\n")
    response = client.post("/api/fm/upload", params={"filename": "car.uvl"}, content=text.encode(),
                           headers=bearer(tokens["viewer"]))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["dead"] == ["Turbo"]
    [explained] = data["explanations"]["dead"]
    assert explained["feature"] == "Turbo"
    lines = text.splitlines()
    wheres = {r["where"] for r in explained["reasons"]}
    assert "car.uvl:10" in wheres and "Turbo => !Engine" in lines[10 - 1]
    for reason in explained["reasons"]:
        assert reason["line"] is not None and 1 <= reason["line"] <= len(lines)


def test_a_void_model_is_explained(client: TestClient, tokens: dict[str, str]) -> None:
    text = "features\n    Car\n        mandatory\n            Engine\n\nconstraints\n    !Engine\n"
    data = client.post("/api/fm/upload", params={"filename": "void.uvl"}, content=text.encode(),
                       headers=bearer(tokens["viewer"])).json()
    assert data["valid"] is False and data["count"] == "0"
    assert "void.uvl:7" in {r["where"] for r in data["explanations"]["invalid"]["reasons"]}


# --- uploads ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xml", ".dimacs"])
def test_an_uploaded_model_in_another_format_has_the_workspaces_answers(
        client: TestClient, tokens: dict[str, str], suffix: str) -> None:
    """Issue 15 item 3: FeatureIDE XML and DIMACS uploads analysed as the CLI analyses the file."""
    model = load_model(model_file(None))
    text = format_model(model, suffix)
    response = client.post("/api/fm/upload", params={"filename": f"model{suffix}"}, content=text.encode(),
                           headers=bearer(tokens["viewer"]))
    assert response.status_code == 200, response.text
    data = response.json()
    workspace = client.get("/api/fm/analysis").json()
    assert (data["valid"], data["count"], data["file"]) == (workspace["valid"], workspace["count"], f"model{suffix}")
    if suffix == ".xml":
        assert (data["core"], data["dead"], data["atomic_sets"]) == (
            workspace["core"], workspace["dead"], workspace["atomic_sets"])


def test_an_unreadable_upload_is_422_with_the_clis_file_line_column(
        client: TestClient, tokens: dict[str, str], tmp_path: Path) -> None:
    """Issue 15 item 3: the same error as ``fm analyze`` (file:line:column), the upload's name for the path."""
    text = "features\n    Car\n        mandatory\n            Engine {cost 12\n"
    path = tmp_path / "broken.uvl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EvplatformError) as cli_error:
        cli("analyze", str(path), "--op", "valid")
    response = client.post("/api/fm/upload", params={"filename": "broken.uvl"}, content=text.encode(),
                           headers=bearer(tokens["viewer"]))
    status, kind, message = error_of(response)
    assert (status, kind) == (422, "ModelFileError")
    assert message == str(cli_error.value).replace(str(path), "broken.uvl")
    assert message.startswith("broken.uvl:4:")
    assert str(tmp_path) not in message


def test_an_upload_of_unknown_format_or_not_text_is_422(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["viewer"])
    status, _, message = error_of(client.post("/api/fm/upload", params={"filename": "m.txt"}, content=b"x",
                                              headers=headers))
    assert status == 422 and "m.txt" in message
    status, _, message = error_of(client.post("/api/fm/upload", params={"filename": "m.uvl"},
                                              content=b"features\n    \xff\xfe\n", headers=headers))
    assert status == 422 and message.startswith("m.uvl")


def test_a_hostile_upload_is_a_422_not_a_500(client: TestClient, tokens: dict[str, str]) -> None:
    """Issue 15 item 3: entity expansion, a rule nested past the depth bound, a path or NUL in the name."""
    headers = bearer(tokens["viewer"])
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e0 "x">{entities}]><featureModel><struct>'
            '<feature name="&e9;"/></struct></featureModel>')
    depth = 5000  # a deep feature tree is read without recursion now; a rule this deep is refused
    deep = ('<featureModel><struct><and name="root"><feature name="leaf"/></and></struct><constraints><rule>'
            + "<not>" * depth + "<var>leaf</var>" + "</not>" * depth + "</rule></constraints></featureModel>")
    for text in (bomb, deep):
        status, kind, message = error_of(client.post("/api/fm/upload", params={"filename": "m.xml"},
                                                     content=text.encode(), headers=headers))
        assert (status, kind) == (422, "ModelFileError") and message.startswith("m.xml")
    response = client.post("/api/fm/upload", params={"filename": "../../x y.uvl"},
                           content=b"features\n    A\n", headers=headers)
    assert response.status_code == 200 and response.json()["file"] == "x_y.uvl"
    assert error_of(client.post("/api/fm/upload", params={"filename": "x\x00.uvl"}, content=b"features\n",
                                headers=headers))[0] == 422


def test_an_upload_over_the_limit_is_413_and_anonymous_is_401(client: TestClient, tokens: dict[str, str]) -> None:
    """Issue 15 item 3: the size limit holds before the body is read; uploading needs an account."""
    big = b"c " + b"x" * UPLOAD_MAX_BYTES + b"\n"
    status, kind, _ = error_of(client.post("/api/fm/upload", params={"filename": "big.dimacs"}, content=big,
                                           headers=bearer(tokens["viewer"])))
    assert (status, kind) == (413, "PayloadTooLarge")
    status, _, _ = error_of(client.post("/api/fm/upload", params={"filename": "m.uvl"}, content=b"features\n"))
    assert status == 401


# --- configurator sessions -------------------------------------------------------------------------


def test_a_selection_forces_a_feature_with_its_rule_line_and_decision(
        ws_client: TestClient, workspace: Path | None, tokens: dict[str, str]) -> None:
    """Issue 15 item 2: select → a forced feature with its reason (rule, UVL line, the decision); retract."""
    token = tokens["viewer"]
    session = open_session(ws_client, token)
    assert session["selected"] == [] and session["trim"] is None
    chosen, row, state = a_selection_forcing(ws_client, token, session)
    assert state["selected"] == [chosen]
    assert row["decisions"] == [f"select {chosen}"]
    lines = model_file(workspace).read_text(encoding="utf-8").splitlines()
    assert row["where"] == f"features.uvl:{row['line']}" and 1 <= row["line"] <= len(lines)
    assert row["rule"] and chosen not in state["open"] and row["feature"] not in state["open"]
    # the same answer as the CLI's configurator on the same decisions
    expected = cli("configure", str(model_file(workspace)), "--select", chosen)["propagation"]
    assert sorted(r["feature"] for r in state["forced"]) == expected["forced"]
    assert sorted(r["feature"] for r in state["forbidden"]) == expected["forbidden"]
    cli_reason = expected["reasons"][row["feature"]]
    assert (cli_reason["decisions"], cli_reason["line"]) == (row["decisions"], row["line"])
    # retract: back where it started
    again = decide(ws_client, token, session["id"], retract=[chosen]).json()
    assert again["selected"] == [] and again["open"] == session["open"]
    assert ws_client.get(f"/api/fm/sessions/{session['id']}", headers=bearer(token)).json() == again


def test_a_contradicting_decision_is_409_with_its_reasons_and_changes_nothing(
        client: TestClient, tokens: dict[str, str]) -> None:
    """Issue 15 item 2: a decision that no valid configuration allows: why, with lines; the session is kept."""
    token = tokens["viewer"]
    session = open_session(client, token)
    for candidate in session["open"]:
        state = decide(client, token, session["id"], select=[candidate]).json()
        excluded = [r for r in state["forbidden"] if r["decisions"]]
        if excluded:
            break
        decide(client, token, session["id"], retract=[candidate])
    else:
        raise AssertionError("no selection forbids another feature")
    response = decide(client, token, session["id"], select=[excluded[0]["feature"]])
    status, kind, message = error_of(response)
    assert (status, kind) == (409, "Conflict")
    assert "features.uvl:" in message and excluded[0]["feature"] in message
    assert client.get(f"/api/fm/sessions/{session['id']}", headers=bearer(token)).json() == state


def test_a_session_from_a_trim_in_a_market_and_its_cheapest_completion(
        ws_client: TestClient, workspace: Path | None, tokens: dict[str, str]) -> None:
    """Issue 15 item 2: start from a trim × market; min-cost completion as ``fm configure --min-cost``."""
    ws = load_workspace(workspace)
    trim = ws.trims()[-1]
    market = next(m for (key, m) in ws.configurations if key == trim.key)
    token = tokens["viewer"]
    session = open_session(ws_client, token, trim=trim.key, market=market)
    assert (session["trim"], session["market"]) == (trim.key, market)
    assert set(trim.selected) <= set(session["selected"]) and set(session["deselected"]) == set(trim.deselected)
    from_trim = cli("configure", str(model_file(workspace)), "--trim", trim.key, "--market", market)
    assert (from_trim["selected"], from_trim["deselected"]) == (session["selected"], session["deselected"])
    assert from_trim["propagation"]["forced"] == sorted(r["feature"] for r in session["forced"])
    assert from_trim["propagation"]["forbidden"] == sorted(r["feature"] for r in session["forbidden"])
    response = ws_client.post(f"/api/fm/sessions/{session['id']}/completion", json={"attribute": "cost"},
                              headers=bearer(token))
    assert response.status_code == 200, response.text
    completion = response.json()
    args = [f"--select={n}" for n in session["selected"]] + [f"--deselect={n}" for n in session["deselected"]]
    expected = cli("configure", str(model_file(workspace)), *args, "--min-cost", "cost")["completion"]
    assert completion["cost"] == pytest.approx(expected["cost"])
    assert set(session["selected"]) <= set(completion["selected"])
    assert not set(session["deselected"]) & set(completion["selected"])
    assert ws.feature_model.configuration_errors(set(completion["selected"])) == []
    # the trim's own configuration is valid too, so the cheapest costs no more than it does
    assert completion["cost"] <= ws.feature_model.attribute_sum(ws.configuration(trim, market), "cost") + 1e-6
    status, _, message = error_of(ws_client.post(f"/api/fm/sessions/{session['id']}/completion",
                                                 json={"attribute": "no_such_attribute"}, headers=bearer(token)))
    assert status == 400 and "cost" in message


def test_an_idle_session_expires_on_the_servers_clock(db_url: str, tokens: dict[str, str]) -> None:
    """Issue 15 item 2: idle timeout decided on the server's clock; an expired session is the one 404."""
    clock = FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    with TestClient(create_app(None, db_url, clock=clock)) as client:
        token = tokens["viewer"]
        session = open_session(client, token)["id"]
        clock.advance(IDLE_TIMEOUT - timedelta(seconds=1))
        assert client.get(f"/api/fm/sessions/{session}", headers=bearer(token)).status_code == 200  # used: kept
        clock.advance(IDLE_TIMEOUT - timedelta(seconds=1))
        assert client.get(f"/api/fm/sessions/{session}", headers=bearer(token)).status_code == 200
        clock.advance(IDLE_TIMEOUT)
        status, kind, _ = error_of(client.get(f"/api/fm/sessions/{session}", headers=bearer(token)))
        assert (status, kind) == (404, "NotFound")
        assert client.app.state.context.fm_sessions().bytes() == 0  # type: ignore[attr-defined]


def test_sessions_are_private_closed_by_delete_and_need_an_account(
        client: TestClient, tokens: dict[str, str]) -> None:
    """Issue 15 item 4: any signed-in account may configure; another account's session is 404; no token 401."""
    session = open_session(client, tokens["viewer"])["id"]
    status, kind, _ = error_of(client.get(f"/api/fm/sessions/{session}", headers=bearer(tokens["admin"])))
    assert (status, kind) == (404, "NotFound")
    assert error_of(client.get(f"/api/fm/sessions/{session}"))[0] == 401
    assert error_of(client.post("/api/fm/sessions", json={}))[0] == 401
    closed = client.delete(f"/api/fm/sessions/{session}", headers=bearer(tokens["viewer"]))
    assert closed.status_code == 200 and closed.json() == {"id": session, "closed": True}
    assert error_of(client.get(f"/api/fm/sessions/{session}", headers=bearer(tokens["viewer"])))[0] == 404
    assert error_of(client.post("/api/fm/sessions", json={"trim": "nope/none"},
                                headers=bearer(tokens["viewer"])))[0] == 400
    status, kind, message = error_of(decide(client, tokens["viewer"], open_session(client, tokens["viewer"])["id"],
                                            select=["NoSuchFeature"]))
    assert status == 400 and "NoSuchFeature" in message


def test_the_model_file_is_the_demos(client: TestClient) -> None:
    """The API names the model by its workspace-relative path, never the server's absolute one."""
    data = client.get("/api/fm/analysis").json()
    assert str(demo_path()) not in json.dumps(data)
