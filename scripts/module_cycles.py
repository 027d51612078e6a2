#!/usr/bin/env python3
"""Fails when a module of a crate imports, directly or through others, a module that imports it
back. Edges are the `use` items and `crate::`/`super::`/`self::` paths in each module's source
(test modules excluded); `mod` declarations are not edges. Paths resolve to the deepest module
they name. Usage: scripts/module_cycles.py [--skip CRATE ...] [CRATE_DIR ...]
(default: every crate under crates/)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def module_files(src: Path) -> dict[tuple[str, ...], Path]:
    """Module path (relative to the crate root) -> file."""
    out: dict[tuple[str, ...], Path] = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts[0] == "bin":
            continue
        if parts[-1] == "mod":
            parts = parts[:-1]
        if parts in (["lib"], ["main"]):
            parts = []
        out[tuple(parts)] = f
    return out


def strip(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    # Test modules are excluded: they sit at the end of a file.
    m = re.search(r"#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*\{", text)
    return text[: m.start()] if m else text


def use_paths(tree: str, prefix: list[str]) -> list[list[str]]:
    """Expands a use tree (`a::{b, c::d}`) into paths."""
    tree = tree.strip()
    out: list[list[str]] = []
    depth, start, i = 0, 0, 0
    head = None
    while i < len(tree):
        ch = tree[i]
        if ch == "{":
            if depth == 0:
                head = tree[:i]
                start = i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                inner = tree[start:i]
                base = prefix + [p for p in head.split("::") if p.strip()] if head else prefix
                base = [p.strip() for p in base]
                parts, d, s = [], 0, 0
                for j, c in enumerate(inner):
                    if c == "{":
                        d += 1
                    elif c == "}":
                        d -= 1
                    elif c == "," and d == 0:
                        parts.append(inner[s:j])
                        s = j + 1
                parts.append(inner[s:])
                for part in parts:
                    if part.strip():
                        out.extend(use_paths(part, base))
                return out
        i += 1
    path = [p.strip() for p in tree.split(" as ")[0].split("::") if p.strip()]
    return [prefix + path]


def resolve(path: list[str], here: tuple[str, ...], mods: set[tuple[str, ...]]):
    if not path:
        return None
    if path[0] == "crate":
        base, rest = (), path[1:]
    elif path[0] == "super":
        base, rest = here, path
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    elif path[0] == "self":
        base, rest = here, path[1:]
    else:
        # A child module named relative to this one (`use child::X`, `child::f()`).
        if here + (path[0],) in mods:
            base, rest = here, path
        else:
            return None
    best = base
    for k in range(1, len(rest) + 1):
        cand = base + tuple(rest[:k])
        if cand in mods:
            best = cand
        else:
            break
    return best


def edges_of(text: str, here: tuple[str, ...], mods: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        for p in use_paths(m.group(1), []):
            t = resolve(p, here, mods)
            if t is not None:
                found.add(t)
    for m in re.finditer(r"\b((?:crate|super|self)(?:::\w+)+|\w+(?:::\w+)+)", text):
        t = resolve(m.group(1).split("::"), here, mods)
        if t is not None:
            found.add(t)
    found.discard(here)
    return found


def cycles(graph: dict) -> list[list]:
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("crates", nargs="*")
    ap.add_argument("--skip", action="append", default=[])
    args = ap.parse_args()
    dirs = [Path(c) for c in args.crates] or sorted((REPO / "crates").iterdir())
    bad = 0
    for d in dirs:
        if d.name in args.skip or not (d / "src").is_dir():
            continue
        files = module_files(d / "src")
        mods = set(files)
        graph = {m: edges_of(strip(f.read_text()), m, mods) for m, f in files.items()}
        for comp in cycles(graph):
            bad += 1
            names = ", ".join("::".join(m) or "(root)" for m in comp)
            print(f"{d.name}: import cycle through {len(comp)} modules: {names}")
    if bad:
        return 1
    print("no import cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
