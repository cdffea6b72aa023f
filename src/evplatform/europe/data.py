"""The EU market-entry inputs: duties, per-country VAT and registration tax, incentives as rules.

The package carries a small normalised copy of the project's researched EU data (``europe/data/``,
whose README says where each file came from); ``load_eu_data(folder)`` reads that copy or a folder
of files with the same names and columns. Every figure keeps its ``source`` and ``confidence``
because low-confidence data is a scenario input, not a fact, and the output must say so.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from evplatform.errors import SourceError

log = logging.getLogger(__name__)

DUTIES_FILE = "duties.csv"
COUNTRIES_FILE = "countries.csv"
INCENTIVES_FILE = "incentives.csv"
LOW_CONFIDENCE = frozenset({"low", "estimate"})


class EuropeDataError(SourceError):
    """An EU input file is missing, malformed, or lacks what a question needs (a country, a rate).

    A file of the packaged copy is named relative to the package (``evplatform/europe/data/…``), so a
    message shown by the server does not reveal where the package is installed.
    """

    def __init__(self, message: str, file: str | Path | None = None, line: int | None = None) -> None:
        if file is not None and Path(file).parent == packaged_folder():
            file = f"evplatform/europe/data/{Path(file).name}"
        super().__init__(message, file, line)


@dataclass(frozen=True, slots=True)
class Sourced:
    """A number with where it came from and how far to trust it."""

    value: float
    unit: str
    source: str
    confidence: str

    @property
    def low_confidence(self) -> bool:
        return self.confidence.strip().lower() in LOW_CONFIDENCE

    def to_dict(self) -> dict[str, object]:
        return {"value": round(self.value, 2), "unit": self.unit, "source": self.source,
                "confidence": self.confidence, "low_confidence": self.low_confidence}


@dataclass(frozen=True, slots=True)
class Duty:
    scenario: str
    kind: str
    rate: Sourced  # percent
    legal_act: str


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    vat: Sourced  # percent
    registration_tax: Sourced  # EUR
    note: str


@dataclass(frozen=True, slots=True)
class IncentiveRule:
    """One scheme (or tier of a scheme) of a country, with the conditions the model can check."""

    country: str
    scheme: str
    amount: Sourced  # EUR
    price_cap_eur: float | None
    price_basis: str  # "net" (before VAT) or "gross" (incl. VAT)
    price_floor_eur: float | None  # exclusive lower bound of a price band
    requires_eu_assembly: bool
    requires_eu_battery: bool
    min_eco_score: float | None
    buyer_conditions: str
    valid_from: date | None
    valid_to: date | None
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class EuData:
    folder: Path
    duties: dict[str, Duty]
    countries: dict[str, Country]
    incentives: tuple[IncentiveRule, ...]

    def country(self, code: str) -> Country:
        """The country's row; a country the data lacks is an error naming the file and the field."""
        found = self.countries.get(code.upper())
        if found is None:
            raise EuropeDataError(
                f"country {code!r} not in the data (field 'country'; known: {', '.join(sorted(self.countries))})",
                self.folder / COUNTRIES_FILE)
        return found


def packaged_folder() -> Path:
    """The demo copy shipped with the package."""
    return Path(str(resources.files("evplatform.europe") / "data"))


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise EuropeDataError("file not found", path)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise EuropeDataError(f"missing column(s) {', '.join(missing)}", path, 1)
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}


def _number(text: str, field: str, path: Path, line: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise EuropeDataError(f"field {field!r}: {text!r} is not a number", path, line) from None


def _optional_number(text: str, field: str, path: Path, line: int) -> float | None:
    return None if text == "" else _number(text, field, path, line)


def _flag(text: str, field: str, path: Path, line: int) -> bool:
    if text not in ("yes", "no"):
        raise EuropeDataError(f"field {field!r}: {text!r} is not yes or no", path, line)
    return text == "yes"


def _date(text: str, field: str, path: Path, line: int) -> date | None:
    if text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise EuropeDataError(f"field {field!r}: {text!r} is not a date (YYYY-MM-DD)", path, line) from None


def _duties(folder: Path) -> dict[str, Duty]:
    path = folder / DUTIES_FILE
    out: dict[str, Duty] = {}
    for line, row in _rows(path, ("scenario", "kind", "rate_percent", "legal_act", "source", "confidence")):
        rate = Sourced(_number(row["rate_percent"], "rate_percent", path, line), "%", row["source"], row["confidence"])
        out[row["scenario"]] = Duty(row["scenario"], row["kind"], rate, row["legal_act"])
    if "mfn" not in out:
        raise EuropeDataError("no row with scenario 'mfn' (the EU customs duty)", path)
    return out


def _countries(folder: Path) -> dict[str, Country]:
    path = folder / COUNTRIES_FILE
    out: dict[str, Country] = {}
    columns = ("country", "vat_percent", "vat_source", "vat_confidence", "registration_tax_eur",
               "registration_source", "registration_confidence", "note")
    for line, row in _rows(path, columns):
        vat = Sourced(_number(row["vat_percent"], "vat_percent", path, line), "%", row["vat_source"],
                      row["vat_confidence"])
        reg = Sourced(_number(row["registration_tax_eur"], "registration_tax_eur", path, line), "EUR",
                      row["registration_source"], row["registration_confidence"])
        out[row["country"].upper()] = Country(row["country"].upper(), vat, reg, row["note"])
    return out


def _incentives(folder: Path) -> tuple[IncentiveRule, ...]:
    path = folder / INCENTIVES_FILE
    columns = ("country", "scheme", "amount_eur", "price_cap_eur", "price_basis", "price_floor_eur",
               "requires_eu_assembly", "requires_eu_battery", "min_eco_score", "buyer_conditions", "valid_from",
               "valid_to", "source", "confidence")
    out = []
    for line, row in _rows(path, columns):
        if row["price_basis"] not in ("net", "gross"):
            raise EuropeDataError(f"field 'price_basis': {row['price_basis']!r} is not net or gross", path, line)
        out.append(IncentiveRule(
            country=row["country"].upper(), scheme=row["scheme"],
            amount=Sourced(_number(row["amount_eur"], "amount_eur", path, line), "EUR", row["source"],
                           row["confidence"]),
            price_cap_eur=_optional_number(row["price_cap_eur"], "price_cap_eur", path, line),
            price_basis=row["price_basis"],
            price_floor_eur=_optional_number(row["price_floor_eur"], "price_floor_eur", path, line),
            requires_eu_assembly=_flag(row["requires_eu_assembly"], "requires_eu_assembly", path, line),
            requires_eu_battery=_flag(row["requires_eu_battery"], "requires_eu_battery", path, line),
            min_eco_score=_optional_number(row["min_eco_score"], "min_eco_score", path, line),
            buyer_conditions=row["buyer_conditions"],
            valid_from=_date(row["valid_from"], "valid_from", path, line),
            valid_to=_date(row["valid_to"], "valid_to", path, line),
            file=str(path), line=line,
        ))
    return tuple(out)


def load_eu_data(folder: Path | None = None) -> EuData:
    """The three input files of ``folder`` (default: the packaged demo copy)."""
    root = folder if folder is not None else packaged_folder()
    data = EuData(root, _duties(root), _countries(root), _incentives(root))
    log.debug("EU data from %s: %d countries, %d incentive rules", root, len(data.countries), len(data.incentives))
    return data
