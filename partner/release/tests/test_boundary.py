"""No figure leaves the registry except through the release layer: the modules that make pages, API
answers, files and PDFs cannot build the frames of an aggregate, suppress counts, fit a survival
curve or count the analysed cases on their own.

Read from the source (every module of the package but tests and migrations), so that a module
written later is held to it the day it is written.
"""

from __future__ import annotations

import ast
from pathlib import Path

import partner

ROOT = Path(partner.__file__).parent

#: What only the release layer (and the analysis library it calls) may use, and why.
GUARDED_IMPORTS = {
    "partner.cases.frames.build_frames": "the frames an aggregate is computed from",
    "partner.cases.frames.case_frames": "the frames an aggregate is computed from",
    "partner.analysis.suppression": "small-cell suppression",
    "partner.analysis.suppress": "small-cell suppression",
    "partner.analysis.suppress_series": "small-cell suppression",
    "partner.analysis.SurvivalAnalysis": "a survival curve, whose steps count deaths",
    "partner.analysis.survival.SurvivalAnalysis": "a survival curve, whose steps count deaths",
    "lifelines.KaplanMeierFitter": "a survival curve, whose steps count deaths",
    "lifelines.statistics": "survival tests",
}

#: Modules that work on rows rather than release aggregates, each with its reason.
ROW_LEVEL = {
    "partner.cases.frames": "defines the frames",
    "partner.quality.engine": "runs the quality rules over each case",
    "partner.quality.completeness": "a data manager's completeness of the rows of their own scope",
    "partner.quality.views_dashboard": "work lists over the rows the viewer may open, one by one",
    "partner.interop.exporting": "exports rows, for those who may export them",
    "partner.datarequests.extract": "an approved row-level extract, outside the release layer by design",
}
ALLOWED_PACKAGES = ("partner.release", "partner.analysis")


def _modules() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if "tests" in parts or "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))))
    return found


def _imports(tree: ast.Module) -> set[str]:
    """Every dotted name a module imports, and each name imported from a module (module.name)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _calls(tree: ast.Module, attribute: str) -> int:
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attribute
    )


def test_only_the_release_layer_builds_counts_suppresses_and_fits_curves() -> None:
    offences = []
    for name, tree in _modules():
        if name.startswith(ALLOWED_PACKAGES):
            continue
        for imported in sorted(_imports(tree) & set(GUARDED_IMPORTS)):
            if name not in ROW_LEVEL:
                offences.append(f"{name} imports {imported} ({GUARDED_IMPORTS[imported]})")
        if _calls(tree, "counted") and name not in ROW_LEVEL:
            offences.append(f"{name} counts the analysed cases itself (.counted())")
    assert offences == [], "\n".join(offences)


def test_the_boundary_sees_what_it_guards() -> None:
    """The scan is real: the release layer itself does what every other module may not."""
    modules = dict(_modules())
    assert "partner.cases.frames.build_frames" in _imports(modules["partner.release.layer"])
    assert "partner.analysis.suppression.suppress" in _imports(modules["partner.release.layer"])
    assert _calls(modules["partner.release.layer"], "counted") >= 1
    assert {"partner.statistics.api", "partner.reports.views", "partner.website.views"} <= set(modules)
    assert set(ROW_LEVEL) <= set(modules), "a module of ROW_LEVEL no longer exists: take it off the list"
