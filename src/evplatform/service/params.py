"""Path and query parameters with their bounds, shared by the API routers and the dashboard pages (``web``).

Every identifier or number a URL carries is bounded here by what the database can hold (the
column sizes of ``store.schema``: a campaign id is a 32-bit integer, a release id 128 characters,
a VIN 17), so an out-of-range value is a 422 naming the parameter at the edge instead of an
overflow deep in a driver (an id of 2^63 answered a plain-text 500, a 2^40 id a 503 on PostgreSQL).
NUL characters in a path or query are refused before routing (``api.input_guard``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

#: The largest value of a 32-bit signed integer column (campaign ids, seeds, wave indices).
INT32_MAX = 2**31 - 1
#: Column sizes of ``store.schema`` that parameters name.
RELEASE_ID_LENGTH = 128
VIN_LENGTH = 17
MARKET_LENGTH = 32
NAME_LENGTH = 64  # model, trim, component, ECU ids
SUBJECT_LENGTH = 200  # audit subjects
#: The deepest page of a listing (offset = page × page size stays far below any integer limit).
MAX_OFFSET = 10**9

CampaignId = Annotated[int, Path(ge=1, le=INT32_MAX, description="a campaign's id")]
ReleaseId = Annotated[str, Path(min_length=1, max_length=RELEASE_ID_LENGTH, description="a release's id")]
Vin = Annotated[str, Path(min_length=1, max_length=VIN_LENGTH, description="a vehicle's VIN")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Page = Annotated[int, Query(ge=0, le=MAX_OFFSET // 1000, description="page number, from 0")]
OptionalReleaseId = Annotated[str | None, Query(max_length=RELEASE_ID_LENGTH)]
OptionalMarket = Annotated[str | None, Query(max_length=MARKET_LENGTH, description="a market id")]
OptionalName = Annotated[str | None, Query(max_length=NAME_LENGTH)]
OptionalSubject = Annotated[str | None, Query(max_length=SUBJECT_LENGTH)]
