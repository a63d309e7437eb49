"""mkdocs hook: a markdown file included into a page (``--8<-- "path.md"``, such as a benchmark's result
table) has its headings nested under the page's heading above it, so that the page keeps one title and
its table of contents lists every section (included as is, each file's own ``# Title`` was a second page
title, and the contents of the benchmarks page stopped after its first section). Other included files
(code) are left to pymdownx.snippets."""
from __future__ import annotations

import re
from pathlib import Path

_INCLUDE = re.compile(r'^--8<-- "([^"]+\.md)"\s*$')
_HEADING = re.compile(r"^(#{1,6}) ")
_FENCE = re.compile(r"^\s*(```|~~~)")


def nested(text: str, depth: int) -> str:
    """``text`` with every heading outside code fences ``depth`` levels deeper (at most level 6).

    >>> nested("# Title\\n```\\n# a comment\\n```\\n## Part", 2)
    '### Title\\n```\\n# a comment\\n```\\n#### Part'
    """
    out, fenced = [], False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            line = "#" * min(len(m.group(1)) + depth, 6) + line[len(m.group(1)):]
        out.append(line)
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:
    root = Path(config["config_file_path"]).parent
    out, depth, fenced = [], 0, False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            depth = len(m.group(1))
        elif not fenced and (m := _INCLUDE.match(line)):
            line = nested((root / m.group(1)).read_text(encoding="utf-8").rstrip("\n"), depth)
        out.append(line)
    return "\n".join(out)
