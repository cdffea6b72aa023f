"""One default for the Monte Carlo draws, seed and Sobol samples: the CLI, the API and the dashboard use it."""

from __future__ import annotations

import inspect
import json
from typing import Any

from typer.testing import CliRunner

from evplatform.api.routers import insights as api_insights
from evplatform.cli import insights as cli_insights
from evplatform.cli.main import app
from evplatform.insights import scenarios_report
from evplatform.insights.scenarios import DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_SOBOL_SAMPLES
from evplatform.service import presenters
from evplatform.web import insights_pages


def _default(function: Any, name: str) -> Any:
    return inspect.signature(function).parameters[name].default


def test_the_defaults_are_the_documented_ones() -> None:
    assert (DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_SOBOL_SAMPLES) == (20_000, 0, 512)
    assert _default(scenarios_report, "draws") == DEFAULT_DRAWS
    assert _default(scenarios_report, "sobol_samples") == DEFAULT_SOBOL_SAMPLES


def test_cli_api_presenter_and_page_share_the_defaults() -> None:
    for function in (cli_insights.scenarios, api_insights.get_scenarios, presenters.scenarios):
        assert _default(function, "draws") == DEFAULT_DRAWS, function
        assert _default(function, "seed") == DEFAULT_SEED, function
        assert _default(function, "sobol_samples") == DEFAULT_SOBOL_SAMPLES, function
    assert _default(insights_pages.insights_page, "draws") == DEFAULT_DRAWS
    assert _default(insights_pages.insights_page, "seed") == DEFAULT_SEED
    assert _default(insights_pages.npv_csv, "draws") == DEFAULT_DRAWS


def test_the_command_reports_the_default_draws_and_seed() -> None:
    result = CliRunner().invoke(app, ["insights", "scenarios", "--scenario", "plan", "--sobol-samples", "16",
                                      "--no-plots", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["draws"], data["seed"]) == (DEFAULT_DRAWS, DEFAULT_SEED)
