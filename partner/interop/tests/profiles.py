"""A FHIR resource checked against a StructureDefinition's snapshot: what the FHIR export claims in
meta.profile, tested.

Written here because no Python library validates against a profile: fhir.resources checks the base
R4 structure only, and the Python packages that call themselves validators wrap the HL7 Java
validator or a server. Only the FHIRPath is taken from a library (fhirpathpy). The profiles and the
terminology come from the npm packages the tests pin (package.json); the core FHIR package is not
among them, so a data type is checked as deep as the profile's snapshot spells it out.

What is checked, element by element of the snapshot, at every depth the snapshot reaches: the
cardinality of each element (a choice `value[x]` counting all its typed forms, and a type it does
not allow), `fixed[x]` (equal) and `pattern[x]` (contained), slices (by value, pattern and type
discriminators: each slice's cardinality, and nothing left over in a closed slicing), required
bindings to value sets the packages can expand, and the FHIRPath invariants of severity error. An
extension whose url is a StructureDefinition of the packages, and an element whose type names a
profile of the packages, is checked against that one too. What cannot be checked (a value set not
in the packages or not expandable from them, an invariant fhirpathpy cannot evaluate, a slice whose
discriminator cannot be read) is counted in the report, never passed silently as checked.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from fhirpathpy import apply_parsed_path, parse
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

PACKAGES = ("hl7.fhir.us.mcode", "hl7.terminology.r4")
_KINDS = ("StructureDefinition", "ValueSet", "CodeSystem")


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)
    #: value set URL -> why it was not checked
    unchecked_value_sets: dict[str, str] = field(default_factory=dict)
    #: "key: expression" -> the evaluator's error
    unevaluated_invariants: dict[str, str] = field(default_factory=dict)
    #: slices whose discriminator could not be read
    unchecked_slices: set[str] = field(default_factory=set)
    #: (id of an instance's value, profile URL or invariant key) already checked: a slice repeats its base
    seen: set[tuple[int, str]] = field(default_factory=set, repr=False)

    def merge(self, other: Report) -> None:
        self.violations += other.violations
        self.unchecked_value_sets |= other.unchecked_value_sets
        self.unevaluated_invariants |= other.unevaluated_invariants
        self.unchecked_slices |= other.unchecked_slices


class Packages:
    """The conformance resources of the installed FHIR npm packages, by canonical URL."""

    def __init__(self, roots: Iterable[Path]):
        self.by_url: dict[str, dict[str, Any]] = {}
        for root in roots:
            for path in sorted(root.glob("*.json")):
                if not path.name.startswith(_KINDS):
                    continue
                resource = json.loads(path.read_text(encoding="utf-8"))
                if resource.get("resourceType") in _KINDS and resource.get("url"):
                    self.by_url.setdefault(resource["url"], resource)
        self._codes: dict[str, frozenset[tuple[str, str]] | str] = {}

    def resource(self, url: str) -> dict[str, Any] | None:
        return self.by_url.get(url.split("|")[0])

    def structure(self, url: str) -> dict[str, Any] | None:
        found = self.resource(url)
        return found if found and found["resourceType"] == "StructureDefinition" else None

    def codes(self, url: str) -> frozenset[tuple[str, str]] | str:
        """The (system, code) pairs of a value set, or why they cannot be had from the packages."""
        if url not in self._codes:
            self._codes[url] = "expanding"  # a value set that includes itself
            self._codes[url] = self._expand(url)
        return self._codes[url]

    def _expand(self, url: str) -> frozenset[tuple[str, str]] | str:
        vs = self.resource(url)
        if vs is None or vs["resourceType"] != "ValueSet":
            return "not in the packages"
        if "expansion" in vs and "contains" in vs["expansion"]:
            return frozenset(_contains(vs["expansion"]["contains"]))
        found: set[tuple[str, str]] = set()
        for part, exclude in [(p, False) for p in vs.get("compose", {}).get("include", [])] + [
            (p, True) for p in vs.get("compose", {}).get("exclude", [])
        ]:
            codes = self._part(part)
            if isinstance(codes, str):
                return codes
            found = found - codes if exclude else found | codes
        return frozenset(found)

    def _part(self, part: dict[str, Any]) -> set[tuple[str, str]] | str:
        if part.get("filter"):
            return f"a filter on {part.get('system')}"
        system = part.get("system")
        if part.get("concept"):
            codes = {(system or "", c["code"]) for c in part["concept"]}
        elif system:
            cs = self.resource(system)
            if cs is None or cs["resourceType"] != "CodeSystem":
                return f"code system {system} not in the packages"
            if cs.get("content") != "complete":
                return f"code system {system} is not complete in the packages"
            codes = {(system, code) for code in _concepts(cs.get("concept", []))}
        else:
            codes = None
        for other in part.get("valueSet", []):
            included = self.codes(other)
            if isinstance(included, str):
                return f"{other}: {included}"
            codes = set(included) if codes is None else codes & included
        return codes or set()


def _contains(entries: list[dict[str, Any]]) -> Iterable[tuple[str, str]]:
    for entry in entries:
        if "code" in entry:
            yield entry.get("system", ""), entry["code"]
        yield from _contains(entry.get("contains", []))


def _concepts(concepts: list[dict[str, Any]]) -> Iterable[str]:
    for concept in concepts:
        yield concept["code"]
        yield from _concepts(concept.get("concept", []))


@cache
def installed() -> Packages:
    return Packages(Path(settings.BASE_DIR) / "node_modules" / name for name in PACKAGES)


def contains(instance: Any, pattern: Any) -> bool:
    """FHIR's pattern[x]: every element of the pattern is in the instance (a list: each item in some item)."""
    if isinstance(pattern, dict):
        return isinstance(instance, dict) and all(contains(instance.get(k), v) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(instance, list) and all(any(contains(i, p) for i in instance) for p in pattern)
    return instance == pattern


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _prefixed(element: dict[str, Any], prefix: str) -> Any:
    return next((v for k, v in element.items() if k.startswith(prefix)), None)


def _silent(label: str, value: Any) -> None:
    pass


def _base(element: dict[str, Any]) -> str:
    """The FHIRPath type an element's invariants are evaluated on: its data type, a backbone its path."""
    codes = [t["code"] for t in element.get("type", [])]
    if len(codes) == 1 and codes[0][:1].isupper() and codes[0] not in ("BackboneElement", "Element"):
        return codes[0]
    return element["path"]


def _upper_first(code: str) -> str:
    return code[:1].upper() + code[1:]


class Validator:
    def __init__(self, packages: Packages | None = None):
        self.packages = packages or installed()
        self._parsed: dict[str, Any] = {}
        #: "key: expression" -> fhirpathpy's error, so an invariant it cannot evaluate is tried once
        self.unevaluable: dict[str, str] = {}

    def validate(self, resource: dict[str, Any], url: str) -> Report:
        sd = self.packages.structure(url)
        report = Report()
        if sd is None:
            report.violations.append(f"{resource.get('resourceType')}: profile {url} is not installed")
            return report
        resource = copy.deepcopy(resource)  # fhirpathpy may note types in what it evaluates
        _Run(self, sd, resource, report).whole(sd["type"], resource)
        return report

    def evaluate(self, node: Any, base: str, expression: str, root: dict[str, Any]) -> list[Any]:
        if expression not in self._parsed:
            self._parsed[expression] = parse(expression)
        typed = ResourceNode.create_node(node, base)
        variables = {"resource": root, "rootResource": root}
        # trace() in an invariant would print: its callback takes the output instead
        return apply_parsed_path(typed, self._parsed[expression], variables, models["r4"], {"traceFn": _silent})


class _Run:
    """One resource (or one extension) against one StructureDefinition."""

    def __init__(self, validator: Validator, sd: dict[str, Any], root: dict[str, Any], report: Report):
        self.validator = validator
        self.sd = sd
        self.root = root
        self.report = report
        self.by_id: dict[str, dict[str, Any]] = {}
        self.children: dict[str, list[dict[str, Any]]] = {}
        self.slices: dict[str, list[dict[str, Any]]] = {}
        for e in sd["snapshot"]["element"]:
            self.by_id[e["id"]] = e
            if "." not in e["id"]:
                continue
            parent, last = e["id"].rsplit(".", 1)
            if ":" in last:
                name, slice_name = last.split(":", 1)
                if "/" not in slice_name:  # a reslice is checked by its parent slice only
                    self.slices.setdefault(f"{parent}.{name}", []).append(e)
            else:
                self.children.setdefault(parent, []).append(e)

    def whole(self, where: str, item: dict[str, Any]) -> None:
        root = self.by_id[self.sd["type"]]
        self.one_value(root, where, root["path"], item)
        self.element(root["id"], where, [item])

    def element(self, element_id: str, where: str, values: list[Any], base_id: str | None = None) -> None:
        """The children of an element that has `values` in the instance; a slice's, else its base's."""
        children = self.children.get(element_id) or (self.children.get(base_id, []) if base_id else [])
        for value in values:
            if not isinstance(value, dict):
                continue
            known = {"resourceType"}
            for child in children:
                keys = self.keys(child, value)
                known.update(keys)
                label = f"{where}.{child['path'].rsplit('.', 1)[1]}"
                found = [(k, v) for k in keys for v in _as_list(value[k])]
                self.cardinality(child, label, len(found))
                slice_of = self.sliced(child, label, found)
                for position, (key, item) in enumerate(found):
                    self.one_value(child, label, key, item)
                    slice_ = slice_of.get(position)
                    if slice_ is None:
                        self.element(child["id"], label, [item])
                        self.profiles([child], label, key, item)
                        continue
                    named = f"{label}:{slice_['sliceName']}"
                    self.one_value(slice_, named, key, item)
                    self.element(slice_["id"], named, [item], base_id=child["id"])
                    self.profiles([child, slice_], named, key, item)
            if children:
                for key in sorted(k for k in value if k not in known and not k.startswith("_")):
                    self.violation(f"{where}.{key}", "is not an element of this type")

    def keys(self, element: dict[str, Any], value: dict[str, Any]) -> list[str]:
        name = element["path"].rsplit(".", 1)[1]
        if not name.endswith("[x]"):
            return [name] if name in value else []
        stem = name[:-3]
        allowed = {stem + _upper_first(t["code"]) for t in element.get("type", [])}
        keys = [k for k in value if k.startswith(stem) and k[len(stem) : len(stem) + 1].isupper()]
        for key in keys:
            if key not in allowed:
                self.violation(f"{element['path']}: {key}", f"is not one of the types allowed: {sorted(allowed)}")
        return keys

    def cardinality(self, element: dict[str, Any], where: str, count: int) -> None:
        low, high = element.get("min", 0), element.get("max", "*")
        if count < low:
            self.violation(where, f"has {count} value(s), the profile requires at least {low}")
        if high != "*" and count > int(high):
            self.violation(where, f"has {count} value(s), the profile allows at most {high}")

    def one_value(self, element: dict[str, Any], where: str, key: str, value: Any) -> None:
        fixed = _prefixed(element, "fixed")
        if fixed is not None and value != fixed:
            self.violation(where, f"is {value!r}, the profile fixes it to {fixed!r}")
        pattern = _prefixed(element, "pattern")
        if pattern is not None and not contains(value, pattern):
            self.violation(where, f"is {value!r}, which does not contain the profile's pattern {pattern!r}")
        binding = element.get("binding", {})
        if binding.get("strength") == "required" and binding.get("valueSet"):
            self.bound(binding["valueSet"], where, value)
        for constraint in element.get("constraint", []):
            if constraint.get("severity") == "error" and constraint.get("expression"):
                self.invariant(constraint, _base(element), where, value)

    def bound(self, url: str, where: str, value: Any) -> None:
        codes = self.validator.packages.codes(url)
        if isinstance(codes, str):
            self.report.unchecked_value_sets[url.split("|")[0]] = codes
            return
        if isinstance(value, str):
            ok = any(code == value for _, code in codes)
        else:
            codings = value.get("coding", []) if "coding" in value or "text" in value else [value]
            ok = any((c.get("system", ""), c.get("code")) in codes for c in codings)
        if not ok:
            self.violation(where, f"is {value!r}, not in the required value set {url}")

    def invariant(self, constraint: dict[str, Any], path: str, where: str, value: Any) -> None:
        key = f"{constraint['key']}: {constraint['expression']}"
        if (id(value), key) in self.report.seen:
            return
        self.report.seen.add((id(value), key))
        unevaluable = self.validator.unevaluable
        if key not in unevaluable:
            try:
                result = self.validator.evaluate(value, path, constraint["expression"], self.root)
            except Exception as error:  # fhirpathpy raises bare Exceptions for what it does not implement
                unevaluable[key] = str(error)[:200]
        if key in unevaluable:
            self.report.unevaluated_invariants[key] = unevaluable[key]
            return
        if result != [True]:
            self.violation(where, f"breaks the invariant {constraint['key']} ({constraint.get('human', '')})")

    def sliced(self, element: dict[str, Any], where: str, found: list[tuple[str, Any]]) -> dict[int, dict[str, Any]]:
        """Each slice's cardinality; the slice each value falls in, by its position."""
        slicing = element.get("slicing")
        slices = self.slices.get(element["id"], [])
        slice_of: dict[int, dict[str, Any]] = {}
        if not slicing or not slices:
            return slice_of
        unreadable = False
        for slice_ in slices:
            answers = [self.matches(slicing["discriminator"], slice_, key, item) for key, item in found]
            if None in answers:
                self.report.unchecked_slices.add(slice_["id"])
                unreadable = True
                continue
            for position, answer in enumerate(answers):
                if answer:
                    slice_of.setdefault(position, slice_)
            self.cardinality(slice_, f"{where}:{slice_['sliceName']}", sum(map(bool, answers)))
        if slicing.get("rules") == "closed" and not unreadable:
            for position, (_, item) in enumerate(found):
                if position not in slice_of:
                    self.violation(where, f"{item!r} is in none of the slices of a closed slicing")
        return slice_of

    def matches(self, discriminators: list[dict[str, str]], slice_: dict[str, Any], key: str, item: Any) -> bool | None:
        for discriminator in discriminators:
            kind, path = discriminator["type"], discriminator["path"]
            if kind == "type" and path == "$this":
                types = [_upper_first(t["code"]) for t in slice_.get("type", [])]
                if not any(key.endswith(t) for t in types):
                    return False
            elif kind == "type":
                resource = next(iter(self.at(item, path)), None)
                if not isinstance(resource, dict):
                    return None
                if resource.get("resourceType") not in [t["code"] for t in self.target(slice_, path).get("type", [])]:
                    return False
            elif kind in ("value", "pattern"):
                answer = self.has_value(slice_, path, item)
                if answer is not True:
                    return answer
            else:
                return None
        return True

    def target(self, slice_: dict[str, Any], path: str) -> dict[str, Any]:
        return slice_ if path == "$this" else self.by_id.get(f"{slice_['id']}.{path}", {})

    def at(self, item: Any, path: str) -> list[Any]:
        """The nodes a discriminator's path reaches, lists flattened as FHIRPath does."""
        nodes = [item]
        for step in [] if path == "$this" else path.split("."):
            nodes = [child for node in nodes if isinstance(node, dict) for child in _as_list(node.get(step))]
        return nodes

    def has_value(self, slice_: dict[str, Any], path: str, item: Any) -> bool | None:
        target = self.target(slice_, path)
        value = _prefixed(target, "fixed")
        if value is None:
            value = _prefixed(target, "pattern")
        if value is None and path == "url":  # an extension's slice: the url is the profile its type names
            value = next((p for t in slice_.get("type", []) for p in t.get("profile", [])), None)
        expected = [value] if value is not None else []
        own = _prefixed(slice_, "pattern") or _prefixed(slice_, "fixed")
        if not expected and own is not None:  # in the slice's own pattern (on coding: its patternCodeableConcept)
            expected = self.at(own, path)
        actual = self.at(item, path)
        if expected:
            return all(any(contains(a, e) for a in actual) for e in expected)
        binding = target.get("binding", {})
        if binding.get("valueSet") and binding.get("strength") == "required":
            codes = self.validator.packages.codes(binding["valueSet"])
            if isinstance(codes, str):
                self.report.unchecked_value_sets[binding["valueSet"].split("|")[0]] = codes
                return None
            codings = [c for node in actual if isinstance(node, dict) for c in node.get("coding", [node])]
            return any((c.get("system", ""), c.get("code")) in codes for c in codings)
        return None

    def profiles(self, elements: list[dict[str, Any]], where: str, key: str, item: Any) -> None:
        """The item against the profiles its type names, and an extension against its own definition."""
        urls = {p for e in elements for t in e.get("type", []) for p in t.get("profile", [])}
        if key in ("extension", "modifierExtension") and isinstance(item, dict) and item.get("url"):
            urls.add(item["url"])
        for url in sorted(urls):
            sd = self.validator.packages.structure(url)
            if sd is None or not isinstance(item, dict) or (id(item), sd["url"]) in self.report.seen:
                continue
            self.report.seen.add((id(item), sd["url"]))
            _Run(self.validator, sd, self.root, self.report).whole(f"{where}({sd['name']})", item)

    def violation(self, where: str, message: str) -> None:
        self.report.violations.append(f"{self.sd['name']}: {where} {message}")
