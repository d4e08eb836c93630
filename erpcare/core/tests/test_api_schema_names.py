"""Every API schema class has a name of its own: Django Ninja names OpenAPI components after
the class, so two apps' ``ChangeOut`` become one component and one app's answers stop
matching the document (it happened to the inspection report and the changes API)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ninja import Schema

import erpcare.api  # noqa: F401 (registers every app's router, importing their schemas)


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


def shared_names(classes: Iterable[type]) -> dict[str, list[str]]:
    """Class names used by more than one of the project's (non-test) schema classes."""
    by_name: dict[str, set[str]] = defaultdict(set)
    for cls in classes:
        module = cls.__module__
        if module.startswith("erpcare.") and ".tests." not in module:
            by_name[cls.__name__].add(f"{module}.{cls.__qualname__}")
    return {name: sorted(where) for name, where in by_name.items() if len(where) > 1}


def test_no_two_api_schemas_share_a_name():
    assert shared_names(_subclasses(Schema)) == {}


def test_the_check_finds_a_shared_name():
    # Plain classes: a real Schema subclass made here would stay among Schema's subclasses.
    first = type("ChangeOut", (), {"__module__": "erpcare.a.api"})
    second = type("ChangeOut", (), {"__module__": "erpcare.b.api"})
    other = type("OtherOut", (), {"__module__": "erpcare.b.api"})
    in_tests = type("OtherOut", (), {"__module__": "erpcare.a.tests.test_api"})
    assert shared_names([first, second, other, in_tests]) == {
        "ChangeOut": ["erpcare.a.api.ChangeOut", "erpcare.b.api.ChangeOut"]
    }
