"""Uptane endpoints (Director and Image repositories, images, version manifests) — wired when OTA lands."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/uptane", tags=["uptane"])
