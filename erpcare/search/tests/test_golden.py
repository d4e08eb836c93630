"""The same top results on both backends for a fixed corpus (data/golden.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from erpcare.search import services
from erpcare.search.tests.conftest import ids

GOLDEN = yaml.safe_load((Path(__file__).parent / "data" / "golden.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", GOLDEN, ids=[case["query"] for case in GOLDEN])
def test_top_results(cast, docs, case):
    results = services.search(cast.adam, case["query"])
    assert ids(results)[: len(case["top"])] == case["top"]
    assert results.corrected_query == case.get("corrected")
    assert "<mark>" in results.hits[0].title_html + results.hits[0].snippet_html
