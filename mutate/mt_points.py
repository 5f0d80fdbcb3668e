"""mt_points: the mutation points of a C file, found by syntax with libclang.

Every point is an exact byte range of the file and the text that replaces it;
nothing here reads C with regular expressions. The operators (closed set, the
`op` codes below) are those of issue 14: relational/equality operators
flipped or widened, && <-> ||, arithmetic and off-by-one changes, a condition
forced true or false, a call statement dropped, a returned status replaced by
GC_OK, a constant argument zeroed, an early return or a break removed.

A point's id is stable across runs of the same source:
    <file>:<function>:<line>:<column>:<op>
and its cache key (`fkey`) does not depend on where the function sits in the
file, only on the function's own text and the point's offset inside it, so an
unchanged function's results survive edits elsewhere in the file.

The clang 14 bindings do not expose a binary operator's kind: the operator is
the one token that lies between the two operands' extents.
"""

import bisect
import hashlib

import clang.cindex as ci

K = ci.CursorKind

# op code -> (mutatorName in the report, {operator: replacement})
ROR = {"<": ["<=", ">="], "<=": ["<", ">"], ">": [">=", "<="], ">=": [">", "<"],
       "==": ["!="], "!=": ["=="]}
LOR = {"&&": ["||"], "||": ["&&"]}
AOR = {"+": ["-"], "-": ["+"], "*": ["/"], "/": ["*"], "%": ["*"],
       "+=": ["-="], "-=": ["+="], "<<": [">>"], ">>": ["<<"]}
OP_NAMES = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne",
            "&&": "and", "||": "or", "+": "add", "-": "sub", "*": "mul", "/": "div",
            "%": "mod", "+=": "addeq", "-=": "subeq", "<<": "shl", ">>": "shr"}
MUTATOR = {"ror": "EqualityOperator", "lor": "LogicalOperator", "aor": "ArithmeticOperator",
           "obo": "OffByOne", "cond": "ConditionalExpression", "call": "CallStatementRemoval",
           "ret": "ReturnStatus", "arg": "ConstantArgumentZeroed", "early": "EarlyExitRemoval"}


class Point:
    __slots__ = ("file", "function", "line", "col", "op", "start", "end", "orig", "repl",
                 "fn_start", "fn_hash", "end_line", "end_col")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)

    @property
    def id(self):
        return f"{self.file}:{self.function}:{self.line}:{self.col}:{self.op}"

    @property
    def mutator(self):
        return MUTATOR[self.op.split(".")[0]]

    @property
    def fkey(self):
        """Cache key: the function's text and the edit relative to it."""
        h = hashlib.sha256(f"{self.fn_hash}|{self.start - self.fn_start}|{self.end - self.fn_start}"
                           f"|{self.op}|{self.repl}".encode())
        return h.hexdigest()[:24]

    def apply(self, src):
        return src[:self.start] + self.repl.encode() + src[self.end:]

    def as_dict(self):
        d = {k: getattr(self, k) for k in self.__slots__}
        d["id"], d["fkey"], d["mutator"] = self.id, self.fkey, self.mutator
        return d


def _is_int_literal(text):
    t = text.rstrip("uUlL")
    return t.isdigit() or (t.lower().startswith("0x") and len(t) > 2)


def _is_constant_arg(text):
    """A literal, an ALL_CAPS name (flag, limit), or sizeof: what a caller
    passes as flags and sizes."""
    if _is_int_literal(text) and text.rstrip("uUlL") not in ("0", "0x0"):
        return True
    if text.startswith("sizeof"):
        return True
    if text.replace("_", "").isalnum() and text.upper() == text and not text[0].isdigit() \
            and any(c.isalpha() for c in text) and text not in ("NULL",):
        return True
    return False


def _unwrap(c):
    """The expression under implicit casts (UNEXPOSED_EXPR with one child):
    `n > 0` with a long n compares with a converted 0."""
    while c.kind == K.UNEXPOSED_EXPR:
        kids = list(c.get_children())
        if len(kids) != 1:
            break
        c = kids[0]
    return c


class _Walker:
    def __init__(self, path, rel, src, tu):
        self.path, self.rel, self.src, self.tu = path, rel, src, tu
        toks = [t for t in tu.get_tokens(extent=tu.cursor.extent)
                if t.location.file and t.location.file.name == path]
        self.toks = sorted(((t.extent.start.offset, t.extent.end.offset, t.spelling)
                            for t in toks), key=lambda x: x[0])
        self.tok_starts = [t[0] for t in self.toks]
        self.points = []
        self.functions = {}
        self.fn = None

    def _text(self, a, b):
        return self.src[a:b].decode("utf-8", "replace")

    def _in_file(self, c):
        f = c.extent.start.file
        return f is not None and f.name == self.path and c.extent.end.file is not None \
            and c.extent.end.file.name == self.path

    def _tokens_between(self, a, b):
        i = bisect.bisect_left(self.tok_starts, a)
        out = []
        while i < len(self.toks) and self.toks[i][0] < b:
            out.append(self.toks[i])
            i += 1
        return out

    def _line_col(self, off):
        line = self.src.count(b"\n", 0, off) + 1
        col = off - (self.src.rfind(b"\n", 0, off) + 1) + 1
        return line, col

    def add(self, start, end, op, repl):
        if self.fn is None or start >= end:
            return
        line, col = self._line_col(start)
        end_line, end_col = self._line_col(end)
        name, fs, fh = self.fn
        self.points.append(Point(file=self.rel, function=name, line=line, col=col, op=op,
                                 start=start, end=end, orig=self._text(start, end), repl=repl,
                                 fn_start=fs, fn_hash=fh, end_line=end_line, end_col=end_col))

    # -- the walk -----------------------------------------------------------
    def walk(self, c, parent=None):
        if c.kind == K.FUNCTION_DECL and c.is_definition() and self._in_file(c):
            s, e = c.extent.start.offset, c.extent.end.offset
            self.fn = (c.spelling, s, hashlib.sha256(self.src[s:e]).hexdigest())
            self.functions[c.spelling] = (c.extent.start.line, c.extent.end.line)
            self.ret_int = c.result_type.spelling == "int"
            for ch in c.get_children():
                self.walk(ch, c)
            self.fn = None
            return
        if self.fn is not None and self._in_file(c):
            self.visit(c, parent)
        for ch in c.get_children():
            self.walk(ch, c)

    def visit(self, c, parent):
        k = c.kind
        if k in (K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR):
            self.binary(c)
        elif k in (K.IF_STMT, K.WHILE_STMT, K.DO_STMT, K.FOR_STMT, K.CONDITIONAL_OPERATOR):
            self.condition(c)
        elif k == K.COMPOUND_STMT:
            self.statements(c)
        elif k == K.CALL_EXPR:
            self.call_args(c)
        elif k == K.RETURN_STMT:
            self.return_status(c)

    def binary(self, c):
        kids = list(c.get_children())
        if len(kids) != 2 or not all(self._in_file(x) for x in kids):
            return
        lhs, rhs = kids
        between = self._tokens_between(lhs.extent.end.offset, rhs.extent.start.offset)
        if len(between) != 1:
            return  # a macro or something we cannot place exactly
        a, b, op = between[0]
        if self._text(a, b) != op:
            return
        name = OP_NAMES.get(op)
        for table, code in ((ROR, "ror"), (LOR, "lor"), (AOR, "aor")):
            for r in table.get(op, []):
                self.add(a, b, f"{code}.{name}>{OP_NAMES[r]}", r)
        # off by one: an integer literal operand of a comparison or arithmetic
        if op in ROR or op in AOR:
            for x in (lhs, rhs):
                x = _unwrap(x)
                if x.kind == K.INTEGER_LITERAL and self._in_file(x):
                    s, e = x.extent.start.offset, x.extent.end.offset
                    t = self._text(s, e)
                    if _is_int_literal(t):
                        self.add(s, e, "obo.plus1", f"({t} + 1)")

    def condition(self, c):
        kids = list(c.get_children())
        cond = None
        if c.kind in (K.IF_STMT, K.WHILE_STMT, K.CONDITIONAL_OPERATOR):
            cond = kids[0] if kids else None
        elif c.kind == K.DO_STMT:
            cond = kids[1] if len(kids) > 1 else None
        elif c.kind == K.FOR_STMT:
            # for (init; cond; inc) body: the condition is the expression
            # between the two semicolons of the header.
            toks = self._tokens_between(c.extent.start.offset, c.extent.end.offset)
            semis = [t for t in toks[:64] if t[2] == ";"]
            if len(semis) >= 2:
                for x in kids:
                    if semis[0][1] <= x.extent.start.offset and x.extent.end.offset <= semis[1][0]:
                        cond = x
        if cond is None or not self._in_file(cond):
            return
        s, e = cond.extent.start.offset, cond.extent.end.offset
        # A loop forced true never ends (a timeout, not a lesson): loops are
        # forced false (the body never runs), branches both ways.
        if c.kind in (K.IF_STMT, K.CONDITIONAL_OPERATOR):
            self.add(s, e, "cond.true", "1")
        self.add(s, e, "cond.false", "0")

    def _stmt_end(self, c):
        """The offset just past a statement's ';' (the extent stops before it)."""
        e = c.extent.end.offset
        toks = self._tokens_between(e, e + 64)
        if toks and toks[0][2] == ";":
            return toks[0][1]
        return None

    def statements(self, block):
        kids = list(block.get_children())
        for i, s in enumerate(kids):
            if not self._in_file(s):
                continue
            is_last = i == len(kids) - 1
            if s.kind == K.CALL_EXPR or (
                    s.kind == K.BINARY_OPERATOR and self._is_assign_of_call(s)):
                end = self._stmt_end(s)
                if end:
                    self.add(s.extent.start.offset, end, "call.drop", ";")
            elif s.kind == K.BREAK_STMT:
                end = self._stmt_end(s)
                if end:
                    self.add(s.extent.start.offset, end, "early.break", ";")
            elif s.kind == K.RETURN_STMT and not is_last:
                end = self._stmt_end(s)
                if end:
                    self.add(s.extent.start.offset, end, "early.return", ";")
        # `if (x) return y;` / `if (x) break;`: the statement is the if's body.
        for s in kids:
            if s.kind == K.IF_STMT:
                for body in list(s.get_children())[1:]:
                    if body.kind in (K.RETURN_STMT, K.BREAK_STMT) and self._in_file(body):
                        end = self._stmt_end(body)
                        if end:
                            code = "early.return" if body.kind == K.RETURN_STMT else "early.break"
                            self.add(body.extent.start.offset, end, code, ";")

    def _is_assign_of_call(self, s):
        kids = list(s.get_children())
        if len(kids) != 2:
            return False
        between = self._tokens_between(kids[0].extent.end.offset, kids[1].extent.start.offset)
        rhs = kids[1]
        while rhs.kind == K.UNEXPOSED_EXPR:
            inner = list(rhs.get_children())
            if len(inner) != 1:
                break
            rhs = inner[0]
        return len(between) == 1 and between[0][2] == "=" and rhs.kind == K.CALL_EXPR

    def call_args(self, c):
        args = list(c.get_arguments())
        for i, a in enumerate(args):
            if not self._in_file(a):
                continue
            s, e = a.extent.start.offset, a.extent.end.offset
            t = self._text(s, e).strip()
            if _is_constant_arg(t):
                self.add(s, e, f"arg.zero{i}", "0")

    def return_status(self, c):
        if not self.ret_int:
            return
        kids = list(c.get_children())
        if not kids or not self._in_file(kids[0]):
            return
        s, e = kids[0].extent.start.offset, kids[0].extent.end.offset
        t = self._text(s, e).strip()
        if t in ("GC_OK", "0"):
            return
        names = {tok[2] for tok in self._tokens_between(s, e)}
        if any(n.startswith("GC_E") for n in names) or "rc" in names or "(" in names:
            self.add(s, e, "ret.ok", "GC_OK")


def points_of(path, rel, parse_args, index=None):
    """(points, functions {name: (first line, last line)}, diagnostics) of one file."""
    index = index or ci.Index.create()
    with open(path, "rb") as f:
        src = f.read()
    tu = index.parse(path, args=parse_args)
    diags = [str(d) for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    w = _Walker(tu.spelling, rel, src, tu)
    w.walk(tu.cursor)
    seen, out = set(), []
    for p in sorted(w.points, key=lambda p: (p.start, p.op)):
        if p.id in seen:  # the same edit reached twice (a body listed by two rules)
            continue
        seen.add(p.id)
        out.append(p)
    return out, w.functions, diags
