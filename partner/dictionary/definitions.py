"""Reading and checking a dictionary version's definition files, without Django.

`read_definitions(path)` returns a `Definitions` or raises `DefinitionErrors`, a list of
problems each naming the file, the line, the location inside the file and the reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from partner.lib.expressions import Condition

from .schema import EU_CDE, Entity, EntityFile, FieldDef, FormDef, IcccFile, Release

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"


def bundled_versions() -> list[Path]:
    """The version folders shipped in the package, oldest first."""
    return sorted(
        (p for p in DEFINITIONS_DIR.iterdir() if p.is_dir() and p.name.startswith("v")),
        key=lambda p: int(p.name[1:]),
    )


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    location: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.location}: {self.reason}" if self.location else f"{where}: {self.reason}"


class DefinitionErrors(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Definitions:
    path: Path
    release: Release
    iccc: IcccFile
    entities: list[Entity]
    forms: list[FormDef]
    content_hash: str
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def version(self) -> int:
        return self.release.version

    @cached_property
    def fields(self) -> dict[str, tuple[FormDef, FieldDef]]:
        return {f.code: (form, f) for form in self.forms for f in form.fields}

    def form(self, code: str) -> FormDef:
        for form in self.forms:
            if form.code == code:
                return form
        raise KeyError(code)

    def entity(self, code: str) -> Entity:
        for entity in self.entities:
            if entity.code == code:
                return entity
        raise KeyError(code)

    def as_json(self) -> dict[str, Any]:
        return {
            "release": self.release.model_dump(mode="json"),
            "iccc": self.iccc.model_dump(mode="json", exclude_defaults=True),
            "entities": [e.model_dump(mode="json", exclude_defaults=True) for e in self.entities],
            "forms": [f.model_dump(mode="json", exclude_defaults=True) for f in self.forms],
        }


# --- YAML with line numbers ----------------------------------------------------------------------


def _line_of(node: yaml.Node | None, loc: Iterable[int | str]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a line number."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _describe(loc: tuple[int | str, ...], data: Any) -> str:
    """Name a location the way a dictionary author thinks of it: fields[3] (diagnosis_date).type"""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and key < len(node) and isinstance(node[key], dict):
                code = node[key].get("code") or node[key].get("extended")
                if code:
                    label += f" ({code})"
            parts.append(label)
            node = node[key] if isinstance(node, list) and key < len(node) else None
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts)


def _load(path: Path, model: type[BaseModel], root: Path, problems: list[Problem]) -> Any:
    rel = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, None, "", f"cannot read the file: {exc}"))
        return None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        problems.append(Problem(rel, mark.line + 1 if mark else None, "", reason))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(Problem(rel, _line_of(node, loc), _describe(loc, data), err["msg"]))
        return None


def _hash(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def read_definitions(path: Path | str | None = None) -> Definitions:
    """Read and check one version folder (the newest bundled version by default)."""
    root = Path(path) if path is not None else bundled_versions()[-1]
    problems: list[Problem] = []
    if not root.is_dir():
        raise DefinitionErrors([Problem(str(root), None, "", "not a folder of definition files")])
    for name in ("dictionary.yaml", "iccc3.yaml", "entities.yaml"):
        if not (root / name).is_file():
            problems.append(Problem(f"{root.name}/{name}", None, "", "file missing"))
    if problems:
        raise DefinitionErrors(problems)
    release = _load(root / "dictionary.yaml", Release, root, problems)
    iccc = _load(root / "iccc3.yaml", IcccFile, root, problems)
    entity_file = _load(root / "entities.yaml", EntityFile, root, problems)
    form_files = sorted((root / "forms").glob("*.yaml")) + sorted((root / "modules").glob("*.yaml"))
    forms = [_load(p, FormDef, root, problems) for p in form_files]
    if problems:
        raise DefinitionErrors(problems)
    entities = entity_file.entities
    paths = {form.code: path for form, path in zip(forms, form_files, strict=True)}
    forms.sort(key=lambda f: (f.order, f.code))
    files = [root / "dictionary.yaml", root / "iccc3.yaml", root / "entities.yaml", *form_files]
    definitions = Definitions(root, release, iccc, entities, forms, _hash(root, files))
    problems.extend(_cross_checks(definitions, root, paths))
    if problems:
        raise DefinitionErrors(problems)
    return definitions


def _cross_checks(d: Definitions, root: Path, files: dict[str, Path]) -> Iterator[Problem]:
    """What no single file can check: references between files, uniqueness, coverage."""
    ent = f"{root.name}/entities.yaml"
    extended = {e.code for e in d.iccc.extended}
    seen: set[str] = set()
    for i, entity in enumerate(d.entities):
        if entity.code in seen:
            yield Problem(ent, None, f"entities[{i}] ({entity.code})", "entity code appears twice")
        seen.add(entity.code)
        if entity.iccc_extended not in extended:
            yield Problem(
                ent,
                None,
                f"entities[{i}] ({entity.code})",
                f"ICCC-3 extended group {entity.iccc_extended} does not exist",
            )

    field_home: dict[str, str] = {}
    forms_by_code = {f.code: f for f in d.forms}
    if len(forms_by_code) != len(d.forms):
        yield Problem(root.name, None, "forms", "two forms share a code")
    cde: dict[str, str] = {}
    for form in d.forms:
        rel = str(files[form.code].relative_to(root.parent)) if form.code in files else form.code
        for code in form.entities:
            if code not in seen:
                yield Problem(rel, None, "entities", f"entity {code!r} is not defined in entities.yaml")
        for f in form.fields:
            where = f"fields ({f.code})"
            if f.code in field_home:
                yield Problem(
                    rel,
                    None,
                    where,
                    f"field code also used in form {field_home[f.code]!r}: "
                    "field codes are unique across the dictionary",
                )
            field_home[f.code] = form.code
            if f.mappings.eu_cde:
                if form.is_module:
                    yield Problem(
                        rel, None, where, "EU common data elements belong to the common dataset, not a tumour module"
                    )
                if f.mappings.eu_cde in cde:
                    yield Problem(
                        rel, None, where, f"EU CDE {f.mappings.eu_cde} is already mapped by {cde[f.mappings.eu_cde]!r}"
                    )
                cde[f.mappings.eu_cde] = f.code
    for form in d.forms:
        rel = str(files[form.code].relative_to(root.parent)) if form.code in files else form.code
        own = {f.code: f for f in form.fields}
        for f in form.fields:
            for key, condition in f.conditions().items():
                yield from _check_condition(rel, f"fields ({f.code}).{key}", condition, own, forms_by_code)
    missing = [k for k in EU_CDE if k not in cde]
    if missing:
        names = ", ".join(f"{k} {EU_CDE[k]}" for k in missing)
        yield Problem(root.name, None, "forms", f"the common dataset does not cover EU CDE {names}")


def _check_condition(
    rel: str, where: str, condition: Condition, own: dict[str, FieldDef], forms: dict[str, FormDef]
) -> Iterator[Problem]:
    for name in condition.names:
        form_code, _, field_code = name.rpartition(".")
        scope = {f.code: f for f in forms[form_code].fields} if form_code in forms else own
        if form_code and form_code not in forms:
            yield Problem(rel, None, where, f"{name!r}: there is no form {form_code!r}")
            continue
        target = scope.get(field_code)
        if target is None:
            yield Problem(rel, None, where, f"{name!r} is not a field of form {form_code or 'this form'!r}")
            continue
        if target.choices:
            allowed = {c.code for c in target.choices}
            for literal in _literals_beside(condition, name):
                if isinstance(literal, str) and literal not in allowed:
                    yield Problem(
                        rel,
                        None,
                        where,
                        f"{literal!r} is not a choice of {name!r} (choices: {', '.join(sorted(allowed))})",
                    )


def _literals_beside(condition: Condition, name: str) -> list[Any]:
    """String constants compared with `name` in the condition."""
    import ast

    found: list[Any] = []
    for node in ast.walk(condition.tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        names = {ast.unparse(o) for o in operands}
        if name not in names:
            continue
        for o in operands:
            if isinstance(o, ast.Constant):
                found.append(o.value)
            elif isinstance(o, (ast.List, ast.Tuple)):
                found.extend(e.value for e in o.elts if isinstance(e, ast.Constant))
    return found


def canonical_json(d: Definitions) -> str:
    return json.dumps(d.as_json(), sort_keys=True, ensure_ascii=False)
