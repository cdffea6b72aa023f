"""Modules and parts catalogue, BOM of a configuration, cost per model, reuse and commonality."""

from evplatform.platform.bom import Bom, BomLine, bom_of
from evplatform.platform.commonality import Commonality, Product, commonality
from evplatform.platform.comparison import PlatformComparison, platform_vs_separate
from evplatform.platform.kpi import KpiReport, TrimCost, kpi_report, trim_costs

__all__ = [
    "Bom",
    "BomLine",
    "Commonality",
    "KpiReport",
    "PlatformComparison",
    "Product",
    "TrimCost",
    "bom_of",
    "commonality",
    "kpi_report",
    "platform_vs_separate",
    "trim_costs",
]
