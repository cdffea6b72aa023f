"""Workspace views: the platform, models × trims with cost, the feature tree, BOMs and KPIs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from evplatform.api.context import Context
from evplatform.api.responses import BomOut, FeaturesOut, KpiOut, ModelsOut, PlatformOut
from evplatform.service import views
from evplatform.service.params import MARKET_LENGTH, NAME_LENGTH

router = APIRouter(prefix="/api", tags=["workspace"])


@router.get("/platform", response_model=PlatformOut,
            summary="The platform: name, currency, models, markets, software components")
def platform(context: Context) -> dict[str, Any]:
    return views.platform_view(context.workspace())


@router.get("/models", response_model=ModelsOut,
            summary="Models × trims with price, volume, BOM and unit cost, markets sold in")
def models(context: Context) -> dict[str, Any]:
    return context.cached(("models",), lambda: views.models_view(context.workspace()))


@router.get("/features", response_model=FeaturesOut,
            summary="The feature tree (groups as cardinalities) and cross-tree constraints")
def features(context: Context) -> dict[str, Any]:
    return views.features_view(context.workspace())


@router.get("/kpi", response_model=KpiOut,
            summary="The `evplatform kpi --json` payload: cost per trim, reuse, commonality")
def kpi(context: Context) -> dict[str, Any]:
    return context.cached(("kpi",), lambda: views.kpi_view(context.workspace()))


@router.get("/bom", response_model=BomOut,
            summary="The bill of materials of one trim in one market (`evplatform bom --json`)")
def bom(
    context: Context,
    trim: Annotated[str, Query(max_length=2 * NAME_LENGTH + 1,
                               description="model/trim: a model id of platform.yaml and one of its trims")],
    market: Annotated[str | None, Query(max_length=MARKET_LENGTH,
                                        description="default: the platform's base market")] = None,
) -> dict[str, Any]:
    return views.bom_view(context.workspace(), trim, market)
