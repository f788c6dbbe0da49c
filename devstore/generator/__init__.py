"""Deterministic data a real merchant would have, for the default Japanese and English shops."""

from __future__ import annotations

from devstore.generator.store_data import GenerationReport, ShopReport, generate_store

__all__ = ["GenerationReport", "ShopReport", "generate_store"]
