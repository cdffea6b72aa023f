"""Fleet filter queries: the parser (good and bad queries, the error's column, the bounds) and the
resolver (case-insensitive ids, regions expanded, versions in version order, durations as ages)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from evplatform.fleet import query as fq
from evplatform.fleet.listing import FilterForm, page_numbers
from evplatform.store import vehicle_query as vq

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class FakeCatalogue:
    """What the demo fleet holds, without a database."""

    def values(self, field: str) -> Sequence[str]:
        return {"model": ["su7", "yu7"], "trim": ["max", "pro", "standard"],
                "trim_key": ["su7/max", "su7/pro", "yu7/max"], "market": ["CN", "DE", "EU", "FR"]}[field]

    def market_parents(self) -> Mapping[str, str | None]:
        return {"CN": None, "EU": None, "DE": "EU", "FR": "EU"}

    def ecus(self) -> Sequence[str]:
        return ["adas", "central-compute"]

    def versions(self, ecu: str) -> Sequence[str]:
        return ["2.4.0", "2.9.1", "2.10.0"] if ecu == "adas" else ["1.7.0"]

    def campaigns(self) -> Sequence[int]:
        return [1, 2]


def resolve(text: str) -> vq.Condition:
    return fq.compile_query(text, FakeCatalogue(), NOW)


@pytest.mark.parametrize("text", [
    'model = "S7" and market in (EU) and version("vcu") < "2.1" and last_seen > 7d',
    "not (model = su7 or trim in (max, pro)) and vin ~ lmd",
    "market not in (EU, CN)",
    "MODEL = su7 AND Market = de OR not not trim = max",
    "campaign(2) in (failed, rolled_back) and crashes(30d) > 0 and consent_updates = false",
    "vin = 'LMD\"A' or registered >= 2026-01-01T00:00:00",
])
def test_good_queries_parse(text: str) -> None:
    assert fq.parse(text) is not None


def test_the_tree_keeps_precedence_and_columns() -> None:
    tree = fq.parse("model = su7 or market = DE and not trim = max")
    assert isinstance(tree, fq.Or)
    left, right = tree.parts
    assert isinstance(left, fq.Term) and left.column == 1 and left.values[0].column == 9
    assert isinstance(right, fq.And) and isinstance(right.parts[1], fq.Not)
    assert fq.parse("   ") is None


@pytest.mark.parametrize(("text", "column", "words"), [
    ("model = ", 9, "expected a value"),
    ("model = su7 and", 16, "expected a condition"),
    ("model su7", 7, "expected an operator"),
    ("model == su7", 8, "expected a value"),
    ("model in ()", 11, "expected a value"),
    ("(model = a", 11, "expected ')'"),
    ("model = a)", 10, "'and', 'or' or the end"),
    ('"x" = 1', 1, "expected a condition"),
])
def test_bad_queries_name_the_column(text: str, column: int, words: str) -> None:
    with pytest.raises(fq.QueryError) as caught:
        fq.parse(text)
    assert caught.value.column == column, str(caught.value)
    assert words in str(caught.value) and str(caught.value).startswith(f"query column {column}: ")


def test_depth_and_length_are_bounded_before_parsing() -> None:
    deep = "(" * (fq.MAX_DEPTH + 1) + "model = su7" + ")" * (fq.MAX_DEPTH + 1)
    with pytest.raises(fq.QueryError, match="nested more than") as caught:
        fq.parse(deep)
    assert caught.value.column == fq.MAX_DEPTH + 1
    ok = "(" * fq.MAX_DEPTH + "model = su7" + ")" * fq.MAX_DEPTH
    assert fq.parse(ok) is not None
    assert fq.parse('vin = "((((((((((((("') is not None  # parentheses in a string do not nest
    with pytest.raises(fq.QueryError, match="at most 1,000"):
        fq.parse("model = su7 and " * 100)
    nots = "not " * 240 + "model = su7"  # a run of "not" costs no recursion
    assert isinstance(fq.parse(nots), fq.Term)


def test_ids_are_case_insensitive_and_regions_expand() -> None:
    assert resolve('model = "SU7"') == vq.ColumnIn("model", ("su7",))
    assert resolve("market = eu") == vq.ColumnIn("market", ("DE", "EU", "FR"))
    assert resolve("market not in (cn)") == vq.NotOf(vq.ColumnIn("market", ("CN",)))
    assert resolve("trim = SU7/MAX") == vq.ColumnIn("trim_key", ("su7/max",))
    assert resolve("trim in (Max, su7/pro)") == vq.AnyOf((vq.ColumnIn("trim_key", ("su7/pro",)),
                                                          vq.ColumnIn("trim", ("max",))))
    assert resolve("vin ~ lmd") == vq.VinContains("LMD")


def test_unknown_names_point_at_the_value() -> None:
    with pytest.raises(fq.QueryError, match="unknown model 'su8'; did you mean 'su7'") as caught:
        resolve("market = CN and model = su8")
    assert caught.value.column == 25
    with pytest.raises(fq.QueryError, match="unknown field 'modle'; did you mean 'model'"):
        resolve("modle = su7")
    with pytest.raises(fq.QueryError, match="unknown ECU 'vcu'") as ecu:
        resolve('version("vcu") < "2.1"')
    assert ecu.value.column == 9
    with pytest.raises(fq.QueryError, match="campaign\\(9\\): give a campaign id"):
        resolve("campaign(9) = failed")
    with pytest.raises(fq.QueryError, match="does not take '<'"):
        resolve("model < su7")


def test_versions_compare_in_version_order() -> None:
    assert resolve('version("ADAS") < "2.10"') == vq.VersionIn("adas", ("2.4.0", "2.9.1"))
    assert resolve('version("adas") >= 2.9.1') == vq.VersionIn("adas", ("2.9.1", "2.10.0"))
    assert resolve('version("adas") = 2.4') == vq.VersionIn("adas", ())  # 2.4 is not 2.4.0 installed
    with pytest.raises(fq.QueryError, match="needs an ECU"):
        resolve("version < 2")


def test_durations_are_ages_and_dates_are_days() -> None:
    assert resolve("last_seen > 7d") == vq.LastSeen("<", NOW - timedelta(days=7))
    assert resolve("last_seen < 12h") == vq.LastSeen(">", NOW - timedelta(hours=12))
    assert resolve("registered >= 2w") == vq.Registered("<=", NOW - timedelta(weeks=2))
    day = datetime(2026, 11, 6, tzinfo=UTC)
    assert resolve("last_seen = 2026-11-06") == vq.AllOf((vq.LastSeen(">=", day),
                                                          vq.LastSeen("<", day + timedelta(days=1))))
    assert resolve("last_seen <= 2026-11-06") == vq.LastSeen("<", day + timedelta(days=1))
    assert resolve("last_seen = never") == vq.NeverSeen()
    with pytest.raises(fq.QueryError, match="neither a duration"):
        resolve("last_seen > yesterday")
    with pytest.raises(fq.QueryError, match="using < or >"):
        resolve("last_seen = 7d")


def test_campaigns_crashes_and_consent() -> None:
    assert resolve("campaign(2) = FAILED") == vq.CampaignState(2, ("failed",))
    assert resolve("campaign(1) = none") == vq.NotOf(vq.CampaignState(1, ()))
    assert resolve("campaign_state != rolled_back") == vq.NotOf(vq.CampaignState(None, ("rolled_back",)))
    assert resolve("crashes > 0") == vq.CrashCount(NOW - timedelta(days=7), ">", 0)
    assert resolve("crashes(30d) = 0") == vq.CrashCount(NOW - timedelta(days=30), "=", 0)
    assert resolve("consent_updates != true") == vq.Consent("updates", False)
    with pytest.raises(fq.QueryError, match="a count"):
        resolve("crashes > many")


def test_the_page_controls_become_one_query() -> None:
    form = FilterForm(vin="lmda00", model="SU7", market="EU", ecu="adas", version="2.4.0", campaign="2",
                      campaign_state="failed", seen="7d", health="crashed7d", q="trim = max or trim = pro")
    text = form.query_text()
    assert text == ('vin ~ "lmda00" and model = "SU7" and market = "EU" and version("adas") = "2.4.0" and '
                    'campaign(2) = "failed" and last_seen < 7d and crashes(7d) > 0 and (trim = max or trim = pro)')
    assert fq.parse(text) is not None
    assert FilterForm(vin="LMDA0000000000001").query_text() == 'vin = "LMDA0000000000001"'
    assert FilterForm(model='x" or vin ~ "').query_text() == 'model = "x\\" or vin ~ \\""'  # quoted, not injected


def test_page_numbers_skip_the_middle() -> None:
    assert page_numbers(0, 1) == [0]
    assert page_numbers(5, 20) == [0, None, 3, 4, 5, 6, 7, None, 19]
    assert page_numbers(40, 20) == [0, None, 19]  # past the end: the first and the last
