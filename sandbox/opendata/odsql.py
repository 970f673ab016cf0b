"""ODSQL, the query language of the Opendatasoft Explore API v2.1 — the subset people write —
parsed by a grammar into a syntax tree, checked against a dataset's fields, and compiled to a
parameterised DuckDB query over a table named ``data``.

Nothing of the input becomes SQL text: field names are looked up in the dataset's schema and
quoted from there, every value is a bound parameter, and anything else is a syntax error that
says where the expression broke and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

# Field types of a dataset (as the Explore API names them).
TYPES = ("text", "int", "double", "boolean", "date", "datetime", "geo_point_2d")
MAX_EXPRESSION = 4000  # characters in one parameter

GRAMMAR = r"""
?start: condition

?condition: disjunction
?disjunction: conjunction (_OR conjunction)*
?conjunction: negation (_AND negation)*
?negation: _NOT negation -> not_
         | predicate
?predicate: "(" condition ")"
          | operand COMPARATOR operand -> compare
          | operand _IN "(" operand ("," operand)* ")" -> in_
          | operand _NOT _IN "(" operand ("," operand)* ")" -> not_in
          | operand _IN BOUND operand _RANGE operand BOUND -> in_range
          | operand COMPARATOR BOUND operand _RANGE operand BOUND -> in_range
          | operand _IS _TRUE -> is_true
          | operand _IS _FALSE -> is_false
          | operand _IS _NOT _TRUE -> is_not_true
          | operand _IS _NOT _FALSE -> is_not_false
          | FIELD -> boolean_field
          | operand _LIKE STRING -> like
          | operand _NOT _LIKE STRING -> not_like
          | operand _IS _NULL -> is_null
          | operand _IS _NOT _NULL -> is_not_null
          | _SEARCH "(" FIELD "," STRING ")" -> search
          | _WITHIN_DISTANCE "(" FIELD "," GEOM "," DISTANCE ")" -> within_distance
          | _IN_BBOX "(" FIELD "," number "," number "," number "," number ")" -> in_bbox
          | STRING -> search_all

?operand: FIELD -> field
        | literal
        | _YEAR "(" FIELD ")" -> year
        | _MONTH "(" FIELD ")" -> month
        | _DATE_FORMAT "(" FIELD "," STRING ")" -> date_format

?literal: STRING -> string
        | number
        | _DATE STRING -> date
        | _TRUE -> true
        | _FALSE -> false

number: NUMBER

select_list: select_item ("," select_item)*
select_item: expression (_AS FIELD)?
group_list: select_item ("," select_item)*
order_list: order_item ("," order_item)*
order_item: expression ORDER?
?expression: STAR -> all
           | _COUNT "(" STAR ")" -> count
           | _COUNT "(" FIELD ")" -> count_field
           | AGGREGATE "(" FIELD ")" -> aggregate
           | _YEAR "(" FIELD ")" -> year
           | _MONTH "(" FIELD ")" -> month
           | _DATE_FORMAT "(" FIELD "," STRING ")" -> date_format
           | FIELD -> field

COMPARATOR: "<=" | ">=" | "!=" | "<>" | "=" | "<" | ">" | ":"
BOUND: "[" | "]"
_RANGE.2: ".." | /to\b/i
NUMBER: /-?\d+(\.\d+)?([eE][+-]?\d+)?/
AGGREGATE.2: /(avg|sum|min|max)(?=\s*\()/i
ORDER.2: /(asc|desc)\b/i
STAR: "*"
_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
_IN.2: /in\b/i
_LIKE.2: /like\b/i
_IS.2: /is\b/i
_NULL.2: /null\b/i
_AS.2: /as\b/i
_TRUE.2: /true\b/i
_FALSE.2: /false\b/i
_COUNT.2: /count(?=\s*\()/i
_YEAR.2: /year(?=\s*\()/i
_MONTH.2: /month(?=\s*\()/i
_DATE_FORMAT.2: /date_format(?=\s*\()/i
_SEARCH.2: /search(?=\s*\()/i
_WITHIN_DISTANCE.2: /within_distance(?=\s*\()/i
_IN_BBOX.2: /in_bbox(?=\s*\()/i
_DATE.2: /date(?=\s*['"])/i
GEOM: /geom\s*'[^']*'/i
DISTANCE: /\d+(\.\d+)?\s*(km|mi|yd|ft|cm|mm|m)\b/i
FIELD: /[A-Za-z_][A-Za-z0-9_]*/ | /`[^`]+`/
STRING: /"(\\.|[^"\\])*"/ | /'(\\.|[^'\\])*'/

%import common.WS
%ignore WS
"""

_PARSERS = {
    start: Lark(GRAMMAR, start=start, parser="lalr", propagate_positions=True, maybe_placeholders=False)
    for start in ("start", "select_list", "group_list", "order_list")
}


class OdsqlError(ValueError):
    """A parameter that is not ODSQL this API understands: ``parameter`` names it, ``position``
    (0-based, or None) says where it broke, ``message`` what was expected or which field is unknown."""

    def __init__(self, parameter: str, message: str, position: int | None = None):
        self.parameter, self.position = parameter, position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{parameter}: {message}{where}")
        self.message = message


@dataclass(frozen=True)
class Query:
    """A compiled query: DuckDB SQL over the table ``data``, its bound parameters (positional),
    and the names of the columns it answers."""

    sql: str
    params: list[Any]
    columns: list[str]
    grouped: bool


def _parse(parameter: str, text: str, start: str) -> Tree:
    if len(text) > MAX_EXPRESSION:
        raise OdsqlError(parameter, f"longer than {MAX_EXPRESSION} characters", None)
    try:
        return _PARSERS[start].parse(text)
    except UnexpectedCharacters as error:
        raise OdsqlError(
            parameter, f"unexpected character {text[error.pos_in_stream]!r}", error.pos_in_stream
        ) from None
    except UnexpectedEOF as error:
        expected = ", ".join(sorted({_describe(name) for name in error.expected}))
        raise OdsqlError(parameter, f"unexpected end of the expression; expected {expected}", len(text)) from None
    except UnexpectedToken as error:
        expected = ", ".join(sorted({_describe(name) for name in error.expected}))
        found = "end of the expression" if error.token.type == "$END" else repr(str(error.token))
        position = len(text) if error.token.type == "$END" else error.token.start_pos
        raise OdsqlError(parameter, f"unexpected {found}; expected {expected}", position) from None
    except UnexpectedInput as error:  # any other refusal of the grammar
        raise OdsqlError(parameter, "not a valid expression", getattr(error, "pos_in_stream", None)) from None


_TERMINALS = {
    "FIELD": "a field name",
    "STRING": "a quoted text",
    "SIGNED_NUMBER": "a number",
    "COMPARATOR": "a comparison (=, !=, <, >, <=, >=)",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "STAR": "'*'",
    "DISTANCE": "a distance (500m, 2km)",
    "GEOM": "geom'POINT(lon lat)'",
    "AGGREGATE": "avg(), sum(), min() or max()",
    "ORDER": "ASC or DESC",
    "_OR": "OR",
    "_AND": "AND",
    "_NOT": "NOT",
    "_IN": "IN",
    "_LIKE": "LIKE",
    "_IS": "IS",
    "_NULL": "NULL",
    "_AS": "AS",
    "_TRUE": "true",
    "_FALSE": "false",
    "_COUNT": "count(*)",
    "_YEAR": "year()",
    "_MONTH": "month()",
    "_DATE_FORMAT": "date_format()",
    "_SEARCH": "search()",
    "_WITHIN_DISTANCE": "within_distance()",
    "_IN_BBOX": "in_bbox()",
    "_DATE": "date'…'",
}


def _describe(terminal: str) -> str:
    return _TERMINALS.get(terminal, terminal.lower())


@dataclass
class _Compiler:
    parameter: str
    fields: dict[str, str]
    params: list[Any] = field(default_factory=list)

    # --- names and values ------------------------------------------------------------------

    def name(self, token: Token) -> str:
        raw = str(token)
        name = raw[1:-1] if raw.startswith("`") else raw
        if name not in self.fields:
            known = ", ".join(sorted(self.fields))
            raise OdsqlError(self.parameter, f"unknown field {name!r} (fields: {known})", token.start_pos)
        return name

    def column(self, token: Token) -> tuple[str, str]:
        """The quoted column of a field token and its type."""
        name = self.name(token)
        return _quote(name), self.fields[name]

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def literal(self, tree: Tree | Token) -> Any:
        kind = tree.data if isinstance(tree, Tree) else tree.type
        if kind == "string":
            return _unquote(str(tree.children[0]))
        if kind == "number":
            text = str(tree.children[0])
            return float(text) if re.search(r"[.eE]", text) else int(text)
        if kind == "date":
            text = _unquote(str(tree.children[0])).strip().replace("/", "-")
            try:
                if "T" in text or " " in text:
                    return datetime.fromisoformat(text)
                parts = [int(part) for part in text.split("-")]  # 2017, 2017-04 or 2017-04-03
                if not 1 <= len(parts) <= 3 or len(text.split("-")[0]) != 4:
                    raise ValueError
                return date(*parts, *[1] * (3 - len(parts)))
            except ValueError:
                raise OdsqlError(self.parameter, f"not a date: {text!r}", _position(tree)) from None
        if kind == "true":
            return True
        if kind == "false":
            return False
        raise OdsqlError(self.parameter, "expected a value", _position(tree))

    # --- where ----------------------------------------------------------------------------

    def condition(self, tree: Tree) -> str:
        kind = tree.data
        if kind == "disjunction":
            return "(" + " OR ".join(self.condition(child) for child in tree.children) + ")"
        if kind == "conjunction":
            return "(" + " AND ".join(self.condition(child) for child in tree.children) + ")"
        if kind == "not_":
            return f"(NOT {self.condition(tree.children[0])})"
        if kind == "compare":
            left, comparator, right = tree.children
            operator = {"<>": "!=", ":": "="}.get(str(comparator), str(comparator))
            return f"({self.operand(left)} {operator} {self.operand(right)})"
        if kind in ("in_", "not_in"):
            target, *values = tree.children
            listed = ", ".join(self.operand(value) for value in values)
            return f"({self.operand(target)} {'NOT IN' if kind == 'not_in' else 'IN'} ({listed}))"
        if kind in ("like", "not_like"):
            # As the portal: values containing each word of the string (* a wildcard, % and _ plain).
            target, pattern = tree.children
            column = f"CAST({self.operand(target)} AS VARCHAR)"
            words = " AND ".join(_ilike(column, self.bind(needle)) for needle in _words(pattern))
            return f"({'NOT ' if kind == 'not_like' else ''}({words or 'TRUE'}))"
        if kind == "in_range":  # [a..b] includes a bound, ]a..b[ leaves it out
            target, *rest = tree.children
            if isinstance(rest[0], Token) and rest[0].type == "COMPARATOR":
                if str(rest[0]) != ":":
                    raise OdsqlError(self.parameter, "a range takes IN or :", rest[0].start_pos)
                rest = rest[1:]
            opening, low, high, closing = rest
            column = self.operand(target)
            lower = ">=" if str(opening) == "[" else ">"
            upper = "<=" if str(closing) == "]" else "<"
            return f"({column} {lower} {self.operand(low)} AND {column} {upper} {self.operand(high)})"
        if kind in ("is_true", "is_false", "is_not_true", "is_not_false"):
            column = self.boolean(tree.children[0])
            return f"({column} {kind.upper().replace('_', ' ')})"
        if kind == "boolean_field":
            return f"({self.boolean(tree)} IS TRUE)"
        if kind in ("is_null", "is_not_null"):
            return f"({self.operand(tree.children[0])} IS {'NOT ' if kind == 'is_not_null' else ''}NULL)"
        if kind == "search":  # each word in the field
            column, _ = self.column(tree.children[0])
            words = [_ilike(f"CAST({column} AS VARCHAR)", self.bind(needle)) for needle in _words(tree.children[1])]
            return "(" + (" AND ".join(words) or "TRUE") + ")"
        if kind == "search_all":  # each word in one text field or another
            texts = [name for name, kind in self.fields.items() if kind == "text"]
            if not texts:
                return "FALSE"
            words = []
            for needle in _words(tree.children[0]):
                fields = " OR ".join(_ilike(_quote(name), self.bind(needle)) for name in texts)
                words.append(f"({fields})")
            return "(" + (" AND ".join(words) or "TRUE") + ")"
        if kind == "within_distance":
            point, geom, distance = tree.children
            column = self.geo(point)
            lon, lat = _point(self.parameter, geom)
            metres = _metres(str(distance))
            # Haversine on a sphere of the mean Earth radius: metres between the point and each row.
            return (
                f"(2 * 6371008.8 * asin(sqrt(pow(sin(radians({column}.lat - {self.bind(lat)}) / 2), 2) + "
                f"cos(radians({self.bind(lat)})) * cos(radians({column}.lat)) * "
                f"pow(sin(radians({column}.lon - {self.bind(lon)}) / 2), 2))) <= {self.bind(metres)})"
            )
        if kind == "in_bbox":
            point, *corners = tree.children
            column = self.geo(point)
            lat1, lon1, lat2, lon2 = (self.literal(corner) for corner in corners)
            return (
                f"({column}.lat BETWEEN {self.bind(min(lat1, lat2))} AND {self.bind(max(lat1, lat2))} AND "
                f"{column}.lon BETWEEN {self.bind(min(lon1, lon2))} AND {self.bind(max(lon1, lon2))})"
            )
        return self.operand(tree)

    def boolean(self, tree: Tree | Token) -> str:
        """A boolean field (a bare one is a filter: rows where it is true)."""
        token = tree.children[0] if isinstance(tree, Tree) else tree
        if not isinstance(token, Token) or token.type != "FIELD":
            raise OdsqlError(self.parameter, "IS TRUE / IS FALSE take a boolean field", _position(tree))
        column, kind = self.column(token)
        if kind != "boolean":
            raise OdsqlError(
                self.parameter, f"{self.name(token)!r} is not a boolean field: compare it to a value", token.start_pos
            )
        return column

    def geo(self, token: Token) -> str:
        column, kind = self.column(token)
        if kind != "geo_point_2d":
            raise OdsqlError(self.parameter, f"{self.name(token)!r} is not a geo_point_2d field", token.start_pos)
        return column

    def operand(self, tree: Tree | Token) -> str:
        if isinstance(tree, Tree) and tree.data == "field":
            return self.column(tree.children[0])[0]
        if isinstance(tree, Tree) and tree.data in ("year", "month", "date_format"):
            return self.expression(tree)[0]
        return self.bind(self.literal(tree))

    def temporal(self, token: Token) -> str:
        column, kind = self.column(token)
        if kind not in ("date", "datetime"):
            raise OdsqlError(self.parameter, f"{self.name(token)!r} is not a date", token.start_pos)
        return column

    # --- select, group by, order by -------------------------------------------------------

    def expression(self, tree: Tree) -> tuple[str, str, bool]:
        """SQL, default column name, and whether it aggregates."""
        kind = tree.data
        if kind == "field":
            column, _ = self.column(tree.children[0])
            return column, self.name(tree.children[0]), False
        if kind == "count":
            return "count(*)", "count(*)", True
        if kind == "count_field":  # the rows where the field has a value
            column, _ = self.column(tree.children[0])
            return f"count({column})", f"count({self.name(tree.children[0])})", True
        if kind == "aggregate":
            function = str(tree.children[0]).lower()
            column, column_type = self.column(tree.children[1])
            if function in ("avg", "sum") and column_type not in ("int", "double"):
                raise OdsqlError(self.parameter, f"{function}() needs a number field", tree.children[1].start_pos)
            return f"{function}({column})", f"{function}({self.name(tree.children[1])})", True
        if kind in ("year", "month"):
            return f"{kind}({self.temporal(tree.children[0])})", f"{kind}({self.name(tree.children[0])})", False
        if kind == "date_format":
            column = self.temporal(tree.children[0])
            pattern = _strftime(self.parameter, _unquote(str(tree.children[1])))
            return f"strftime({column}, {self.bind(pattern)})", f"date_format({self.name(tree.children[0])})", False
        raise OdsqlError(self.parameter, "'*' is not allowed here", _position(tree))


def _quote(name: str) -> str:
    """A column of the dataset's schema, as a quoted identifier (never a name from the request)."""
    return '"' + name.replace('"', '""') + '"'


def _position(tree: Tree | Token) -> int | None:
    if isinstance(tree, Token):
        return tree.start_pos
    return getattr(tree.meta, "start_pos", None)


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ilike(column: str, pattern: str) -> str:
    """Whether the text contains the pattern, false (never unknown) for an empty value: NOT
    "dog" keeps the rows without any text."""
    return f"coalesce({column} ILIKE {pattern} ESCAPE '\\', FALSE)"


def _words(token: Token) -> list[str]:
    """The ILIKE patterns of a search string: one per word, found anywhere (``*``: any characters)."""
    return ["%" + _escape_like(word).replace("*", "%") + "%" for word in _unquote(str(token)).split()]


def _point(parameter: str, token: Token) -> tuple[float, float]:
    match = re.fullmatch(
        r"geom\s*'\s*POINT\s*\(\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*\)\s*'", str(token), re.IGNORECASE
    )
    if not match:
        raise OdsqlError(parameter, "expected geom'POINT(lon lat)'", token.start_pos)
    lon, lat = float(match.group(1)), float(match.group(2))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise OdsqlError(
            parameter, "a point's lon must be within [-180, 180] and lat within [-90, 90]", token.start_pos
        )
    return lon, lat


_UNITS = {"km": 1000.0, "m": 1.0, "cm": 0.01, "mm": 0.001, "mi": 1609.344, "yd": 0.9144, "ft": 0.3048}


def _metres(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]+)", text.strip(), re.IGNORECASE)
    assert match  # the grammar's DISTANCE
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


# date_format() takes ICU-style patterns, as the portal documents; DuckDB's strftime takes %-codes.
_FORMAT_CODES = {
    "yyyy": "%Y",
    "YYYY": "%Y",
    "yy": "%y",
    "YY": "%y",
    "MM": "%m",
    "dd": "%d",
    "DDD": "%j",
    "HH": "%H",
    "mm": "%M",
    "ss": "%S",
}
_FORMAT_TOKENS = re.compile(r"yyyy|YYYY|yy|YY|MM|DDD|dd|HH|mm|ss|'(?:[^']|'')*'|[-/ :T.,?]")


def _strftime(parameter: str, pattern: str) -> str:
    """An ICU date pattern (``dd/MM/yyyy``, ``YYYY-MM-dd'T'HH``: text in quotes) as strftime's."""
    tokens = _FORMAT_TOKENS.findall(pattern)
    if "".join(tokens) != pattern:
        raise OdsqlError(
            parameter,
            "date_format() takes yyyy, yy, MM, dd, DDD, HH, mm, ss, the separators - / : . , ? and 'text' in quotes",
            None,
        )
    out = []
    for token in tokens:
        if token.startswith("'"):
            text = token[1:-1].replace("''", "'") if len(token) > 2 else "'"
            out.append(text.replace("%", "%%"))
        else:
            out.append(_FORMAT_CODES.get(token, token))
    return "".join(out)


def compile_query(
    fields: dict[str, str],
    *,
    select: str | None = None,
    where: str | None = None,
    group_by: str | None = None,
    order_by: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Query:
    """The records query of the Explore API on a dataset of ``fields`` (name → type), over the
    table ``data``. Raises :class:`OdsqlError` naming the parameter, the position and what was
    expected, or the unknown field."""
    where_sql, where_params = "", []
    if where:
        compiler = _Compiler("where", fields)
        where_sql = " WHERE " + compiler.condition(_parse("where", where, "start"))
        where_params = compiler.params

    # Each output column with its own parameters: (sql, name, aggregates, params).
    items: list[tuple[str, str, bool, list[Any]]] = []
    if select and select.strip() != "*":
        for item in _parse("select", select, "select_list").children:
            expression, *alias = item.children
            if expression.data == "all":
                items += [(_quote(name), name, False, []) for name in fields]
                continue
            compiler = _Compiler("select", fields)
            sql, name, aggregates = compiler.expression(expression)
            items.append((sql, str(alias[0]).strip("`") if alias else name, aggregates, compiler.params))
    groups: list[tuple[str, str, bool, list[Any]]] = []
    if group_by:
        for item in _parse("group_by", group_by, "group_list").children:
            expression, *alias = item.children
            compiler = _Compiler("group_by", fields)
            sql, name, aggregates = compiler.expression(expression)
            if aggregates or expression.data == "all":
                raise OdsqlError("group_by", "group by a field or a date part, not an aggregate", _position(expression))
            groups.append((sql, str(alias[0]).strip("`") if alias else name, False, compiler.params))
    if not items and not groups:
        items = [(_quote(name), name, False, []) for name in fields]
    grouped_sql = {(sql, tuple(params)) for sql, _, _, params in groups}
    if groups:
        for sql, name, aggregates, params in items:
            if not aggregates and (sql, tuple(params)) not in grouped_sql:
                raise OdsqlError("select", f"{name!r} is neither grouped nor aggregated", None)
    elif any(item[2] for item in items) and not all(item[2] for item in items):
        raise OdsqlError("select", "mixing aggregates and fields needs a group_by", None)

    # Output columns: the groups first (their names), then what select adds.
    outputs = list(groups) + [item for item in items if item[2] or (item[0], tuple(item[3])) not in grouped_sql]
    columns = [name for _, name, _, _ in outputs]
    if len(set(columns)) != len(columns):
        raise OdsqlError("select", "two columns have the same name: give one an alias with AS", None)
    select_sql = [f"{sql} AS {_quote(name)}" for sql, name, _, _ in outputs]
    params: list[Any] = [value for _, _, _, item_params in outputs for value in item_params]

    # Fragments compiled above: identifiers quoted from the schema (or an alias, quoted), values bound.
    sql = f"SELECT {', '.join(select_sql)} FROM data{where_sql}"  # noqa: S608
    params += where_params
    if groups:
        sql += " GROUP BY " + ", ".join(str(index + 1) for index in range(len(groups)))

    if order_by:
        order_compiler = _Compiler("order_by", fields)
        terms = []
        for item in _parse("order_by", order_by, "order_list").children:
            expression, *direction = item.children
            if expression.data == "field" and str(expression.children[0]).strip("`") in columns:
                term = _quote(str(expression.children[0]).strip("`"))  # a column of the answer, or an alias
            else:
                term, _, _ = order_compiler.expression(expression)
            terms.append(f"{term} {str(direction[0]).upper() if direction else 'ASC'}")
        sql += " ORDER BY " + ", ".join(terms)
        params += order_compiler.params
    if limit is not None:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return Query(sql, params, columns, grouped=bool(groups) or any(item[2] for item in items))
