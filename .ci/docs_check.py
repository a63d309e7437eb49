"""Look at the built docs site the way a reader does: every page of mkdocs.yml's nav is opened in
headless Chromium over HTTP, its rendered DOM checked and a screenshot taken (out/site-check/*.png).

Fails (exit 1, one line per problem) when a nav page is missing, a page renders without the site's
navigation, shows raw markdown (fences, snippet or mkdocstrings directives, unrendered tables), lacks
the code blocks or pictures its source has, links to a page, anchor or file that does not exist, or
when a picture is missing or a screenshot is blank.

Run: make docs-check  (builds the site first; needs Debian's chromium: apt-get install chromium)
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "out" / "site"
SHOTS = ROOT / "out" / "site-check"
RAW_MARKDOWN = [re.compile(p, re.M) for p in (r"^```", r"--8<--", r"^::: ", r"^\|[-| :]+\|$", r"^#{1,6} \w")]


class Page(HTMLParser):
    """Links, anchors, pictures, code blocks and the visible text of one HTML page."""

    def __init__(self):
        super().__init__()
        self.links, self.images, self.ids, self.text = [], [], set(), []
        self.code_blocks, self.has_nav, self._skip = 0, False, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img" and a.get("src"):
            self.images.append(a["src"])
        if tag == "pre":
            self.code_blocks += 1
        if tag == "nav" and "md-nav" in (a.get("class") or ""):
            self.has_nav = True
        if tag in ("script", "style", "pre", "code"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "pre", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def nav_pages(nav) -> list[str]:
    out = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        out += nav_pages(value) if isinstance(value, list) else [value]
    return out


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    sys.exit("docs-check: no chromium found (Debian: apt-get install chromium)")


def browse(browser: str, url: str, profile: str, *extra: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={SHOTS / '.profiles' / profile}", "--window-size=1280,1600",
             "--virtual-time-budget=1000"]
    return subprocess.run([browser, *flags, *extra, url], capture_output=True, text=True, timeout=120)


def look(browser: str, base: str, source: str) -> tuple[str, list[str], Page | None]:
    """Render one nav page (its DOM, then a screenshot) and check what a reader would see."""
    problems = []
    html_path = SITE / Path(source).with_suffix(".html")
    if not html_path.exists():
        return source, [f"{source}: no page built at {html_path.relative_to(ROOT)}"], None
    url = urljoin(base, str(Path(source).with_suffix(".html")))
    profile = source.replace("/", "_")                  # one browser profile per page: pages run in parallel
    rendered = browse(browser, url, profile, "--dump-dom")
    if rendered.returncode != 0 or "<html" not in rendered.stdout:
        return source, [f"{source}: chromium could not render {url}: {rendered.stderr.strip()[-200:]}"], None
    page = parse(rendered.stdout)
    text = "".join(page.text)
    md = (ROOT / "docs" / source).read_text()
    if not page.has_nav:
        problems.append(f"{source}: rendered without the site navigation")
    for pattern in RAW_MARKDOWN:
        hit = pattern.search(text)
        if hit:
            problems.append(f"{source}: raw markdown in the rendered page: {hit.group(0)!r}")
    if "```" in md and page.code_blocks == 0:
        problems.append(f"{source}: the source has code blocks, the page shows none")
    if "![" in md and not page.images:
        problems.append(f"{source}: the source has pictures, the page shows none")
    shot = SHOTS / (source.replace("/", "_").replace(".md", ".png"))
    browse(browser, url, profile, f"--screenshot={shot}")
    if not shot.exists() or shot.stat().st_size < 10_000:
        problems.append(f"{source}: the screenshot {shot.name} is missing or blank")
    return url, problems, page


def main() -> int:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    pages = nav_pages(config["nav"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    browser = chromium()
    problems, parsed = [], {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:     # one browser per page at a time
        for source, (url, found, page) in zip(pages, pool.map(lambda s: look(browser, base, s), pages)):
            problems += found
            if page is not None:
                parsed[source] = (url, page)
    ids = {str(SITE / Path(s).with_suffix(".html")): p.ids for s, (_, p) in parsed.items()}
    for source, (url, page) in parsed.items():
        for ref in page.links + page.images:
            target = urlparse(urljoin(url, ref))
            if target.netloc != urlparse(base).netloc or target.scheme not in ("http", "https"):
                continue
            path = SITE / unquote(target.path.lstrip("/"))
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                problems.append(f"{source}: broken link {ref!r} (no {path.relative_to(ROOT)})")
            elif target.fragment and str(path) in ids and target.fragment not in ids[str(path)]:
                problems.append(f"{source}: broken anchor {ref!r}")
    server.shutdown()
    for line in problems:
        print("docs-check:", line)
    print(f"docs-check: {len(parsed)} of {len(pages)} pages rendered, {len(problems)} problem(s); "
          f"screenshots in {SHOTS.relative_to(ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
