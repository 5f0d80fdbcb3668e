"""reports: checks a generated page without a browser. Strict well-formedness
(every non-void element closed, in order; one html/head/body/title; ids
unique), self-containment (no script, no external stylesheet, image, frame or
object; only local links) and that every local link resolves: "#id" to an id
in the page, "file#id" to an existing file next to the page (and to an id in
it when it is HTML). Returns a list of problems; empty means the page is good.
"""

import os
from html.parser import HTMLParser
from urllib.parse import urlsplit, unquote

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}
# SVG elements written self-closed (<line/>) arrive through handle_startendtag.
REMOTE_ATTRS = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"),
                ("object", "data"), ("embed", "src"), ("source", "src")}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.ids, self.links = [], [], [], []
        self.counts = {}
        self.doctype = False

    def handle_decl(self, decl):
        self.doctype = self.doctype or decl.lower().startswith("doctype html")

    def _attrs(self, tag, attrs):
        # SVG has its own <title> (a tooltip); count only the document's.
        if not any(t == "svg" for t, _ in self.stack):
            self.counts[tag] = self.counts.get(tag, 0) + 1
        for k, v in attrs:
            if k == "id":
                self.ids.append(v)
            if k == "href" and tag == "a":
                self.links.append((v, self.getpos()[0]))
            if (tag, k) in REMOTE_ATTRS:
                self.problems.append(f"line {self.getpos()[0]}: <{tag} {k}=...> loads an "
                                     "external resource; the page must be self-contained")
        if tag == "script":
            self.problems.append(f"line {self.getpos()[0]}: <script> in a static report")

    def handle_starttag(self, tag, attrs):
        self._attrs(tag, attrs)
        if tag not in VOID:
            self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag, attrs):
        self._attrs(tag, attrs)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack:
            self.problems.append(f"line {self.getpos()[0]}: </{tag}> closes nothing")
            return
        top, line = self.stack.pop()
        if top != tag:
            self.problems.append(f"line {self.getpos()[0]}: </{tag}> closes <{top}> "
                                 f"opened at line {line}")


def parse(text):
    p = _Page()
    p.feed(text)
    p.close()
    return p


def check_page(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    p = parse(text)
    probs = list(p.problems)
    if not p.doctype:
        probs.append("no <!DOCTYPE html>")
    for tag, line in p.stack:
        probs.append(f"<{tag}> opened at line {line} is never closed")
    for tag in ("html", "head", "body", "title"):
        if p.counts.get(tag, 0) != 1:
            probs.append(f"{p.counts.get(tag, 0)} <{tag}> elements (want exactly 1)")
    seen = set()
    for i in p.ids:
        if i in seen:
            probs.append(f"duplicate id '{i}'")
        seen.add(i)
    base = os.path.dirname(os.path.abspath(path))
    for href, line in p.links:
        u = urlsplit(href)
        if u.scheme or u.netloc:
            probs.append(f"line {line}: external link {href}")
            continue
        target, frag = unquote(u.path), unquote(u.fragment)
        if not target:
            if frag and frag not in seen:
                probs.append(f"line {line}: #{frag} names no id in the page")
            continue
        fpath = os.path.normpath(os.path.join(base, target))
        if not os.path.exists(fpath):
            probs.append(f"line {line}: {href}: {target} does not exist")
        elif frag and fpath.endswith(".html"):
            with open(fpath, encoding="utf-8", errors="replace") as f:
                if frag not in set(parse(f.read()).ids):
                    probs.append(f"line {line}: {href}: no id '{frag}' in {target}")
    return probs
