"""Feature expressions in UVL's constraint syntax: ``!``, ``&``, ``|``, ``=>``, ``<=>``.

A small recursive-descent parser: it is used for every constraint of every model (tens of
thousands in industrial models) and every ``when`` of a BOM, so it tokenises with one regular
expression and builds the AST of ``variability.model`` directly. Precedence, tightest first:
``!`` > ``&`` > ``|`` > ``=>`` > ``<=>``; ``=>`` and ``<=>`` associate to the right.
"""

from __future__ import annotations

import re

from evplatform.errors import ParseError
from evplatform.variability.model import And, Const, Expr, Iff, Implies, Not, Or, Var

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op><=>|=>|[!&|()~])
      | "(?P<quoted>(?:[^"\\]|\\.)*)"
      | (?P<name>[A-Za-z_\u00C0-\uFFFF][\w.\-\u00C0-\uFFFF']*)
      | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"true": Const(True), "false": Const(False)}

#: Deepest nesting of ``!``, parentheses and chained ``=>``/``<=>`` accepted. Real constraints nest a
#: handful of levels; a bound keeps a hostile file (5,000 parentheses, 100,000 ``!``) from
#: exhausting the interpreter's stack here or in every recursive pass over the tree after.
MAX_DEPTH = 100

Token = tuple[str, str, int]  # (kind, text, 0-based column)


def tokenize(text: str, source: str | None = None, line: int | None = None) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    end = len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing white space is left
            break
        column = match.start(match.lastgroup or 0)
        kind = match.lastgroup or "bad"
        if kind == "bad":
            raise ParseError(f"unexpected character {match.group('bad')!r}", source, line, column + 1)
        value = match.group(kind)
        if kind == "quoted":
            value = value.replace('\\"', '"')
            kind = "name"
        tokens.append((kind, value, column))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token], text: str, source: str | None, line: int | None) -> None:
        self.tokens = tokens
        self.i = 0
        self.text = text
        self.source = source
        self.line = line
        self.depth = 0

    def deeper(self) -> None:
        """One level more of nesting; ParseError past ``MAX_DEPTH``, at the token that went too deep."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            column = self.tokens[self.i - 1][2] + 1
            raise ParseError(f"expression nested deeper than {MAX_DEPTH} levels", self.source, self.line, column)

    def error(self, expected: str) -> ParseError:
        if self.i < len(self.tokens):
            _, value, column = self.tokens[self.i]
            return ParseError(f"expected {expected}, found {value!r}", self.source, self.line, column + 1)
        return ParseError(f"expected {expected} at end of expression", self.source, self.line,
                          len(self.text.rstrip()) + 1)

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) and self.tokens[self.i][0] == "op" else None

    def parse(self) -> Expr:
        expr = self.iff()
        if self.i != len(self.tokens):
            raise self.error("an operator (&, |, =>, <=>) or the end of the expression")
        return expr

    def iff(self) -> Expr:
        left = self.implies()
        if self.peek() == "<=>":
            self.i += 1
            self.deeper()
            right = self.iff()
            self.depth -= 1
            return Iff(left, right)
        return left

    def implies(self) -> Expr:
        left = self.disjunction()
        if self.peek() == "=>":
            self.i += 1
            self.deeper()
            right = self.implies()
            self.depth -= 1
            return Implies(left, right)
        return left

    def disjunction(self) -> Expr:
        operands = [self.conjunction()]
        while self.peek() == "|":
            self.i += 1
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def conjunction(self) -> Expr:
        operands = [self.unary()]
        while self.peek() == "&":
            self.i += 1
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def unary(self) -> Expr:
        if self.peek() in ("!", "~"):
            self.i += 1
            self.deeper()
            operand = self.unary()
            self.depth -= 1
            return Not(operand)
        if self.peek() == "(":
            self.i += 1
            self.deeper()
            inner = self.iff()
            if self.peek() != ")":
                raise self.error("')'")
            self.i += 1
            self.depth -= 1
            return inner
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "name":
            name = self.tokens[self.i][1]
            self.i += 1
            return _KEYWORDS.get(name) or Var(name)
        raise self.error("a feature name, '!' or '('")


def parse_expression(text: str, source: str | None = None, line: int | None = None) -> Expr:
    """Parse one expression; raise ``ParseError`` (file:line:column, what was expected)."""
    tokens = tokenize(text, source, line)
    if not tokens:
        raise ParseError("empty expression: expected a feature name", source, line, 1)
    return _Parser(tokens, text, source, line).parse()
