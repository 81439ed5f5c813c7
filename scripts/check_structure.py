#!/usr/bin/env python3
"""Structure checks that keep the code easy to enter (issue 10's "done when"), run by .ci/run.

1. No Rust source file (src, tests, benches) over MAX_FILE_LINES lines.
2. No function over MAX_FN_LINES lines unless the comment block right above it (doc or plain
   comments, attributes skipped) says why it is long: it must contain the word "long".
3. No import circle between the files (modules) of a crate. A file depends on another when it
   names it through `crate::` or `super::` paths;
   a parent's `mod child;` and `pub use child::...` re-exports are its facade, not a
   dependency, and the crate root (lib.rs, main.rs) is the facade of the whole crate, so it
   is left out of the graph.

Works on rustfmt-formatted code (which CI checks first): a function's body ends at the first
line that is its indentation followed by `}`.

Usage: scripts/check_structure.py [ROOT]   (ROOT defaults to the repository root)
"""
import os
import re
import sys

MAX_FILE_LINES = 500
MAX_FN_LINES = 70

FN_RE = re.compile(r"^(\s*)(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+\"C\"\s+)?fn\s+(\w+)")
PATH_RE = re.compile(r"\b(crate|super)((?:::\w+)+)")


def rust_files(root):
    for base, dirs, files in os.walk(os.path.join(root, "crates")):
        dirs[:] = [d for d in dirs if d not in ("target", "fixtures")]
        for f in files:
            if f.endswith(".rs"):
                yield os.path.join(base, f)


def check_lengths(root, path, lines, problems):
    rel = os.path.relpath(path, root)
    if len(lines) > MAX_FILE_LINES:
        problems.append(f"{rel}: {len(lines)} lines (limit {MAX_FILE_LINES})")
    for i, line in enumerate(lines):
        m = FN_RE.match(line)
        if not m:
            continue
        indent = m.group(1)
        # A declaration without a body (trait method, extern) ends with `;` before any `{`.
        j = i
        while j < len(lines) and "{" not in lines[j] and not lines[j].rstrip().endswith(";"):
            j += 1
        if j >= len(lines) or ("{" not in lines[j]):
            continue
        if lines[j].rstrip().endswith("}") and lines[j].count("{") == lines[j].count("}"):
            continue  # one-line body
        end = j + 1
        while end < len(lines) and lines[end].rstrip() != indent + "}":
            end += 1
        length = end - i + 1
        if length <= MAX_FN_LINES:
            continue
        k = i - 1
        comment = []
        while k >= 0 and (lines[k].strip().startswith("#[") or lines[k].strip().startswith("//")
                          or lines[k].strip().startswith(")]") or lines[k].strip() == "]"):
            if lines[k].strip().startswith("//"):
                comment.append(lines[k].lower())
            k -= 1
        if not any("long" in c for c in comment):
            problems.append(f"{rel}:{i + 1}: fn {m.group(8)} is {length} lines (limit {MAX_FN_LINES}) "
                            "and no comment above it says why it is long")


def module_of(src_dir, path):
    """Module path of a file relative to its crate's src dir, e.g. ['routes', 'common']."""
    rel = os.path.relpath(path, src_dir)[:-3].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    return rel


def resolve(modules, current, kind, segs):
    """The deepest known module a `crate::`/`super::` path names, or None."""
    if kind == "crate":
        base = []
    else:
        base = list(current)
        while segs and segs[0] == "super":
            segs = segs[1:]
            base = base[:-1]
        base = base[:-1] if kind == "super" else base
    best = None
    path = list(base)
    if tuple(path) in modules:
        best = tuple(path)
    for s in segs:
        path.append(s)
        if tuple(path) in modules:
            best = tuple(path)
        else:
            break
    return best


def check_circles(root, problems):
    for crate in sorted(os.listdir(os.path.join(root, "crates"))):
        src = os.path.join(root, "crates", crate, "src")
        if not os.path.isdir(src):
            continue
        files = {}
        for base, _, names in os.walk(src):
            for n in names:
                if n.endswith(".rs"):
                    p = os.path.join(base, n)
                    files[tuple(module_of(src, p))] = p
        roots = {("lib",), ("main",)}
        modules = set(files) - roots
        modules.add(())
        graph = {m: set() for m in files if m not in roots}
        for mod, p in files.items():
            if mod in roots:
                continue
            text = open(p, encoding="utf-8").read()
            text = re.sub(r"//[^\n]*", "", text)
            for line in text.split("\n"):
                facade = re.match(r"\s*pub(\([^)]*\))?\s+use\s+(self::)?(\w+)", line)
                if facade and (mod + (facade.group(3),)) in files:
                    continue  # re-exporting a child module
                for m in PATH_RE.finditer(line):
                    segs = m.group(2).split("::")[1:]
                    target = resolve(modules, mod, m.group(1), segs)
                    if target and target != () and target != mod and target[: len(mod)] != mod:
                        graph[mod].add(target)
        for cycle in cycles(graph):
            paths = [os.path.relpath(files[m], root) for m in cycle]
            problems.append("files that import each other in a circle: " + ", ".join(paths))


def cycles(graph):
    """The strongly connected components of more than one node (Tarjan): each holds a circle."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                strong(w)
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
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    root = os.path.abspath(root)
    problems = []
    for p in sorted(rust_files(root)):
        with open(p, encoding="utf-8") as f:
            check_lengths(root, p, f.read().splitlines(), problems)
    check_circles(root, problems)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} structure problem(s)", file=sys.stderr)
        sys.exit(1)
    print("structure: ok")


if __name__ == "__main__":
    main()
