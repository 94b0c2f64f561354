"""New rows of a model, and their history rows, written with one prepared statement per table.

    insert_with_history(cases, TumourCase, user=author)   # inside transaction.atomic()

Why not Django's `bulk_create` with simple-history's `bulk_create_with_history`: both prepare every
value of every object through the query compiler (`prepare_value`, `get_db_prep_save`, the SQL of
each row assembled anew), and simple-history builds a second model instance for each history row.
On an import of 5,000 cases, 65,000 rows with their history, that was two thirds of the import's
time (bench/bench_import.py). Here each column's conversion is chosen once per model, the primary
keys are reserved from the table's sequence before the insert, and the rows go to the driver's
`executemany`, the history rows built from the same converted values.

What it writes is what those two write (partner/lib/tests/test_bulk.py compares the rows, history
included, on both databases); what it does not do is what they do not do either: no `save()`, no
`post_save` signal, no conflict handling. Only new objects, and only inside a transaction: the
reserved keys are safe from other writers only there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import connections, models, router
from django.utils import timezone

#: Columns whose value Django hands to the driver as it is, on SQLite and PostgreSQL alike.
_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}
#: The history columns simple-history adds to the tracked ones; any other makes `insert` refuse.
_HISTORY_COLUMNS = {"history_id", "history_date", "history_change_reason", "history_type", "history_user"}
BATCH = 2_000


def insert_with_history(objs: Sequence[models.Model], model: type[models.Model], *, user: Any = None) -> None:
    """Insert the new `objs` and one "+" history row each, as `bulk_create_with_history` would.

    Each object gets its primary key and its `auto_now`/`auto_now_add` times, and counts as saved.
    The history row's user is the object's `_history_user`, else `user`, else simple-history's
    default (the user of the request being served); its date is the insert's.
    """
    now = timezone.now()
    rows = insert(objs, model, now=now)
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = model.history.model  # type: ignore[attr-defined]
    extra = {f.name for f in history._meta.concrete_fields} - {f.name for f in history.tracked_fields}
    if extra != _HISTORY_COLUMNS:
        raise NotImplementedError(f"{history.__name__} has history columns this writer does not fill: {extra}")
    using = router.db_for_write(history)
    connection = connections[using]
    tracked = [f.attname for f in history.tracked_fields]
    position = {f.attname: i for i, f in enumerate(model._meta.concrete_fields)}
    take = [position[name] for name in tracked]
    when = _converter(history._meta.get_field("history_date"), connection)(now)
    history_rows = []
    for obj, row in zip(objs, rows, strict=True):
        author = getattr(obj, "_history_user", user or history.get_default_history_user(obj))
        reason = getattr(obj, "_change_reason", None)
        history_rows.append((*(row[i] for i in take), when, reason, "+", author.pk if author is not None else None))
    columns = [history._meta.get_field(name).column or name for name in tracked]
    columns += ["history_date", "history_change_reason", "history_type", "history_user_id"]
    _execute(connection, history._meta.db_table, columns, history_rows)


def insert(objs: Sequence[models.Model], model: type[models.Model], *, now: Any = None) -> list[tuple[Any, ...]]:
    """Insert the new `objs` (no history); returns the rows as sent to the database, in field order."""
    if not objs:
        return []
    using = router.db_for_write(model)
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("insert() reserves primary keys: call it inside transaction.atomic()")
    meta = model._meta
    fields = list(meta.concrete_fields)
    now = now or timezone.now()
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    relations = [f for f in fields if isinstance(f, models.ForeignKey)]
    for obj, pk in zip(objs, reserve_ids(model, len(objs)), strict=True):
        if obj.pk is not None:
            raise ValueError(f"{model.__name__} {obj.pk} is not new")
        obj.pk = pk
        for name in stamped:
            setattr(obj, name, now)
        for relation in relations:  # a related object saved since it was assigned: its key, now known
            if relation.is_cached(obj) and (related := relation.get_cached_value(obj)) is not None:
                if related.pk is None:
                    raise ValueError(f"{model.__name__}.{relation.name} is an unsaved {type(related).__name__}")
                setattr(obj, relation.attname, related.pk)
    converters = [(f.attname, _converter(f, connection)) for f in fields]
    rows = [tuple(convert(getattr(obj, name)) for name, convert in converters) for obj in objs]
    _execute(connection, meta.db_table, [str(f.column) for f in fields], rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return rows


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` primary keys of `model` that no other insert will take, in increasing order.

    PostgreSQL draws them from the column's sequence. SQLite has none to draw from: the keys follow
    the larger of the table's largest key and its AUTOINCREMENT counter (so the keys of deleted
    rows, which history rows still name, are never reused), and the write lock, which a
    transaction holds from its start (settings: transaction_mode IMMEDIATE), keeps them ours.
    """
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = meta.pk
    assert pk is not None and pk.column is not None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, pk.column, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"no key reservation for {connection.vendor}")
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT MAX({quote(pk.column)}) FROM {quote(meta.db_table)}), 0), "
            "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [meta.db_table],
        )
        last = cursor.fetchone()[0]
    return list(range(last + 1, last + 1 + count))


def _converter(field: models.Field, connection: Any) -> Callable[[Any], Any]:
    """The conversion Django's insert makes of this column's values, chosen once."""
    kind = field.get_internal_type()
    if isinstance(field, models.ForeignKey):
        kind = field.target_field.get_internal_type()
    if kind in _AS_IS:
        return _same
    return lambda value: field.get_db_prep_save(value, connection)


def _same(value: Any) -> Any:
    return value


def _execute(connection: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])
