"""Safe conditions for the data dictionary ("show this field when ...").

A condition is parsed with Python's own parser and then walked node by node; only comparisons,
boolean operators, membership tests, constants and field names are allowed. Nothing is ever
passed to eval, so a dictionary file cannot run code.

    Condition.parse("stage_system == 'ENSAT' and tumour_weight_g > 100")

Names are field codes of the same form, or "form.field" for a field of another form.
A comparison with a missing value (None) is false, so an unanswered field hides what depends on it.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class ExpressionError(ValueError):
    pass


_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_FIELD_NAME = re.compile(r"^([a-z][a-z0-9_]*\.)?[a-z][a-z0-9_]*$")
_SYMBOL = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


@dataclass(frozen=True)
class Condition:
    text: str
    tree: ast.Expression

    @classmethod
    def parse(cls, text: str) -> Condition:
        return _parsed(text)

    @classmethod
    def _parse(cls, text: str) -> Condition:
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"cannot read condition {text!r}: {exc.msg}") from None
        cls._check(tree.body, text)
        return cls(text, tree)

    @classmethod
    def _check(cls, node: ast.AST, text: str) -> None:
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                cls._check(value, text)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            cls._check(node.operand, text)
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARE:
                    raise ExpressionError(f"{text!r}: operator {type(op).__name__} is not allowed")
            for operand in [node.left, *node.comparators]:
                cls._check_operand(operand, text)
        elif _name(node) is None:
            raise ExpressionError(f"{text!r}: only comparisons, and/or/not, constants and field names are allowed")
        else:
            cls._check_name(node, text)

    @classmethod
    def _check_operand(cls, node: ast.AST, text: str) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
            return
        if isinstance(node, (ast.List, ast.Tuple)):
            for elt in node.elts:
                if not isinstance(elt, ast.Constant):
                    raise ExpressionError(f"{text!r}: a list may hold constants only")
            return
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return
        if _name(node) is None:
            raise ExpressionError(f"{text!r}: {ast.unparse(node)!r} is not a field or a constant")
        cls._check_name(node, text)

    @staticmethod
    def _check_name(node: ast.AST, text: str) -> None:
        name = _name(node) or ""
        if not _FIELD_NAME.match(name):
            raise ExpressionError(f"{text!r}: {name!r} is not a field code (form.field or field)")

    @property
    def names(self) -> set[str]:
        found = set()
        for node in ast.walk(self.tree):
            name = _name(node)
            if name and not (isinstance(node, ast.Name) and self._inside_attribute(node)):
                found.add(name)
        return found

    def _inside_attribute(self, target: ast.Name) -> bool:
        return any(isinstance(n, ast.Attribute) and n.value is target for n in ast.walk(self.tree))

    def evaluate(self, values: Mapping[str, Any]) -> bool:
        return bool(self._eval(self.tree.body, values))

    def _eval(self, node: ast.AST, values: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.BoolOp):
            results = (self._eval(v, values) for v in node.values)
            return all(results) if isinstance(node.op, ast.And) else any(results)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return not self._eval(node.operand, values)
            return -self._eval(node.operand, values)
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, values)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self._eval(right_node, values)
                if left is None or right is None:
                    return False
                try:
                    if not _COMPARE[type(op)](left, right):
                        return False
                except TypeError:
                    return False
                left = right
            return True
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._eval(e, values) for e in node.elts]
        name = _name(node)
        assert name is not None  # guaranteed by _check
        return values.get(name)

    def mask(self, column: Callable[[str], Any]) -> Any:
        """The condition over whole columns at once: a boolean pandas Series, True where it holds.

        `column(name)` gives the Series of a field. Missing values compare false, as in `evaluate`,
        so the mask agrees with `evaluate` row by row (partner/tests/test_expressions.py checks it).
        """
        import pandas as pd

        result = self._mask(self.tree.body, column)
        if not isinstance(result, pd.Series):
            raise ExpressionError(f"{self.text!r} names no field")
        return result.fillna(False).astype(bool)

    def _mask(self, node: ast.AST, column: Callable[[str], Any]) -> Any:

        if isinstance(node, ast.BoolOp):
            parts = [self._as_bool(self._mask(v, column)) for v in node.values]
            result = parts[0]
            for part in parts[1:]:
                result = (result & part) if isinstance(node.op, ast.And) else (result | part)
            return result
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return ~self._as_bool(self._mask(node.operand, column))
            return -node.operand.value  # type: ignore[attr-defined]
        if isinstance(node, ast.Compare):
            result = None
            left = self._mask(node.left, column)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self._mask(right_node, column)
                part = self._compare(op, left, right)
                result = part if result is None else (result & part)
                left = right
            return result
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._mask(e, column) for e in node.elts]
        name = _name(node)
        assert name is not None
        return column(name)

    @staticmethod
    def _as_bool(value: Any) -> Any:
        import pandas as pd

        if isinstance(value, pd.Series):
            return value.fillna(False).astype(bool)
        return bool(value)

    @staticmethod
    def _compare(op: ast.cmpop, left: Any, right: Any) -> Any:
        import pandas as pd

        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(left, pd.Series) or not isinstance(right, list):
                raise ExpressionError("'in' compares a field with a list of constants")
            inside = left.isin(right)
            return (inside if isinstance(op, ast.In) else ~inside) & left.notna()
        series = left if isinstance(left, pd.Series) else right
        if not isinstance(series, pd.Series):
            return pd.Series(_COMPARE[type(op)](left, right))
        present = left.notna() if isinstance(left, pd.Series) else pd.Series(True, index=series.index)
        if isinstance(right, pd.Series):
            present &= right.notna()
        try:
            result: Any = _COMPARE[type(op)](left, right)  # a Series: comparing a Series gives one
        except TypeError:
            return pd.Series(False, index=series.index)
        return result.astype("boolean").fillna(False).astype(bool) & present

    def to_json(self) -> Any:
        """The condition as a small JSON tree, for the browser to show and hide fields as one types."""
        return self._json(self.tree.body)

    def _json(self, node: ast.AST) -> Any:
        if isinstance(node, ast.BoolOp):
            return ["and" if isinstance(node.op, ast.And) else "or", *[self._json(v) for v in node.values]]
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return ["not", self._json(node.operand)]
            return ["const", -node.operand.value]  # type: ignore[attr-defined]
        if isinstance(node, ast.Compare):
            parts = []
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                parts.append(["cmp", type(op).__name__, self._json(left), self._json(right)])
                left = right
            return parts[0] if len(parts) == 1 else ["and", *parts]
        if isinstance(node, ast.Constant):
            return ["const", node.value]
        if isinstance(node, (ast.List, ast.Tuple)):
            return ["list", [self._json(e) for e in node.elts]]
        return ["name", _name(node)]

    def to_redcap(self, variable: Callable[[str], str] = lambda n: n.split(".")[-1]) -> str:
        """The same condition in REDCap's branching-logic syntax ([field] = 'value')."""
        return self._redcap(self.tree.body, variable)

    def _redcap(self, node: ast.AST, variable: Callable[[str], str]) -> str:
        if isinstance(node, ast.BoolOp):
            joiner = " and " if isinstance(node.op, ast.And) else " or "
            return "(" + joiner.join(self._redcap(v, variable) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"not({self._redcap(node.operand, variable)})"
        if isinstance(node, ast.Compare):
            parts = []
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                parts.append(self._redcap_compare(left, op, right, variable))
                left = right
            return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"
        name = _name(node)
        return f"[{variable(name)}] <> ''" if name else "true"

    def _redcap_compare(self, left: ast.AST, op: ast.cmpop, right: ast.AST, variable: Callable[[str], str]) -> str:
        if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (ast.List, ast.Tuple)):
            lhs = self._redcap_operand(left, variable)
            eq = " = " if isinstance(op, ast.In) else " <> "
            join = " or " if isinstance(op, ast.In) else " and "
            items = [f"{lhs}{eq}{self._redcap_operand(e, variable)}" for e in right.elts]
            return "(" + join.join(items) + ")"
        symbol = _SYMBOL.get(type(op))
        if symbol is None:
            raise ExpressionError(f"{self.text!r} has no REDCap equivalent")
        lhs = self._redcap_operand(left, variable)
        return f"{lhs} {symbol} {self._redcap_operand(right, variable)}"

    @staticmethod
    def _redcap_operand(node: ast.AST, variable: Callable[[str], str]) -> str:
        name = _name(node)
        if name:
            return f"[{variable(name)}]"
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return "'1'" if node.value else "'0'"
            return f"'{node.value}'" if isinstance(node.value, str) else str(node.value)
        return ast.unparse(node)


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> Condition:
    """A dictionary has a few hundred conditions, evaluated at every save: each text is parsed once.
    A Condition is immutable, so one parsed condition serves every caller."""
    return Condition._parse(text)
