"""REDCap branching logic in this dictionary's condition language (partner.lib.expressions)."""

from __future__ import annotations

import ast
import copy
import re

from partner.lib.expressions import Condition, ExpressionError

_REFERENCE = re.compile(r"\[([a-z][a-z0-9_]*)(?=[\](])")  # [name] and a checkbox's [name(code)]


def as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def rename_references(text: str, renames: dict[str, str]) -> str:
    """Every [old] and [old(code)] in REDCap logic, with the variable's new name."""
    return _REFERENCE.sub(lambda m: "[" + renames.get(m[1], m[1]), text)


def translate(text: str, booleans: set[str]) -> str:
    """REDCap branching logic in this dictionary's condition language; ExpressionError when it has no equivalent."""
    if re.search(r"\[[a-z0-9_]+\(", text):
        raise ExpressionError("checkbox options in branching logic")
    if re.search(r"\]\s*\[", text):
        raise ExpressionError("a reference to an event or a repeat instance")
    condition = text

    def boolean(match: re.Match[str]) -> str:
        name, op, value = match[1], match[2], match[3]
        if name in booleans:
            return f"{name} {'==' if op == '=' else '!='} {'True' if value == '1' else 'False'}"
        return match[0]

    condition = re.sub(r"\[([a-z0-9_]+)\]\s*(=|<>)\s*['\"]([01])['\"]", boolean, condition)
    condition = re.sub(r"\[([a-z0-9_]+)\]", r"\1", condition)
    condition = re.sub(r"(?<![<>!=])=(?!=)", "==", condition)
    condition = condition.replace("<>", "!=")
    condition = re.sub(r"\bAND\b", "and", condition)
    condition = re.sub(r"\bOR\b", "or", condition)
    return Condition.parse(condition).text


def rewritten(condition: Condition, home: dict[str, str], numeric: set[str]) -> str:
    """Each field of another module written module.field, and numbers quoted as text ('4') made numbers.

    REDCap compares loosely, so [size] = '4' holds for the number 4; here a number never equals a text.
    """
    tree = copy.deepcopy(condition.tree)
    changed = False

    class Rewrite(ast.NodeTransformer):
        def visit_Compare(self, node: ast.Compare) -> ast.AST:
            nonlocal changed
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Name) and o.id in numeric for o in operands):
                for i, o in enumerate(operands):
                    if isinstance(o, ast.Constant) and isinstance(o.value, str) and as_number(o.value) is not None:
                        value = float(o.value)
                        operands[i] = ast.Constant(int(value) if value.is_integer() else value)
                        changed = True
                node.left, node.comparators = operands[0], operands[1:]
            return self.generic_visit(node)

        def visit_Name(self, node: ast.Name) -> ast.AST:
            nonlocal changed
            if node.id in home:
                changed = True
                return ast.Attribute(value=ast.Name(id=home[node.id], ctx=ast.Load()), attr=node.id, ctx=ast.Load())
            return node

    body = Rewrite().visit(tree).body
    return ast.unparse(body) if changed else condition.text
