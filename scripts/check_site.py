#!/usr/bin/env python3
"""Checks the built documentation site the way a reader meets it: offline, in a real browser.

    /usr/bin/python3 scripts/check_site.py build/docs/html [--screenshot build/docs/chapter02.png] [--all]

1. Links, in every file that holds them (the .html pages, the sidebar's navtree*.js, the search
   index, Doxygen's SVG graphs, the CSS): every local href/src/data resolves to a file inside the
   site, and a #fragment on a local page to an id or name there. A script, stylesheet, image or
   frame loaded over http(s) is an error: the site must work offline. Links to external pages
   (<a href="https://...">) are only counted.
2. The browser: one headless Chromium (Debian's /usr/bin/chromium), driven over the DevTools
   protocol on a pipe, loads each page from file:// in a fresh tab and waits until MathJax has
   typeset it. A page fails on a console error (a failed load, an uncaught exception,
   console.error) and, if it has formulas, when MathJax did not render all of them or raw TeX
   (\\f[, \\[, $$, ...) is left in its visible text (code blocks aside). All hand-written pages
   (the main page and the Related Pages) are loaded; the API pages too when there are at most
   --max-api of them (or with --all), else --sample-api of them, as the summary says.
3. A screenshot of chapter 02's page (a 1280x2000 window) for a human to look at.

Only the Python standard library. One line per page, then a summary; exit 0 when all pass,
1 on any failure, 2 when the site or Chromium is missing or Chromium fails to start.
"""
import argparse
import base64
import html.parser
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

CHROMIUM = "/usr/bin/chromium"
CHAPTER02 = "md_chapters_02_openmp_data_parallel_README.html"
# (tag, attribute) pairs that point at another file. 'a'/'area' are links a reader follows;
# the others are loaded with the page, so they must be local.
LINK_ATTRS = {("a", "href"), ("area", "href"), ("link", "href"), ("script", "src"), ("img", "src"),
              ("iframe", "src"), ("frame", "src"), ("object", "data"), ("embed", "src"),
              ("source", "src"), ("video", "src"), ("audio", "src")}
FOLLOWED = {"a", "area"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Raw TeX a reader must never see: Doxygen's delimiters, MathJax's and GitHub's.
RAW_TEX = ["\\f[", "\\f]", "\\f$", "\\f{", "\\[", "\\]", "\\(", "\\)", "$$"]
MATH_ERRORS = ["Math Processing Error", "Math input error", "Undefined control sequence",
               "Missing open brace", "Missing close brace"]


class Page(html.parser.HTMLParser):
    """Collects a page's ids and names, its links, and the TeX delimiters in its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links = set(), []  # links: (tag, attr, value, line)
        self.summary_links = set()  # the in-page links of Doxygen's "Classes | Public Member..." bar
        self.formulas = 0
        self._skip = 0  # inside <script>/<style>
        self._in_summary = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        # Doxygen marks a member's row in a file's or group's summary table with class
        # "memitem:ANCHOR" (the member itself is on its namespace's page); its sidebar links to
        # FILE.html#ANCHOR and its navtree.js scrolls to and highlights that row.
        for token in (attrs.get("class") or "").split():
            if token.startswith("memitem:"):
                self.ids.add(token[len("memitem:"):])
        if tag == "div" and "summary" in (attrs.get("class") or "").split():
            self._in_summary = True
        if self._in_summary and tag == "a" and (attrs.get("href") or "").startswith("#"):
            self.summary_links.add(attrs["href"])
        for attr in ("href", "src", "data"):
            if (tag, attr) in LINK_ATTRS and attrs.get(attr) is not None:
                if tag == "link" and not ({"stylesheet", "icon", "preload", "shortcut"}
                                          & set((attrs.get("rel") or "").lower().split())):
                    continue  # e.g. rel="alternate": not loaded with the page
                self.links.append((tag, attr, attrs[attr], self.getpos()[0]))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if tag == "div":
            self._in_summary = False

    def handle_data(self, data):
        if not self._skip:  # Doxygen writes formulas for MathJax as \( ... \) and \[ ... \]
            self.formulas += data.count("\\(") + data.count("\\[")


class RenderedDom(html.parser.HTMLParser):
    """The visible text of Chromium's DOM dump (no script, style; code blocks apart), and the
    formulas MathJax rendered."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.code_text, self.rendered = [], [], 0
        self._stack = []  # (tag, hidden, code)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        ident = attrs.get("id") or ""
        if re.fullmatch(r"MathJax-Element-\d+-Frame", ident) or "mjx-chtml" in classes:
            self.rendered += 1
        if tag in VOID:
            return
        parent_hidden, parent_code = self._stack[-1][1:] if self._stack else (False, False)
        hidden = parent_hidden or tag in ("script", "style", "noscript", "template", "textarea")
        code = parent_code or tag in ("pre", "code") or "fragment" in classes
        self._stack.append((tag, hidden, code))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self._stack and self._stack[-1][0] == tag:
            self._stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):  # tolerate a stray end tag
            if self._stack[i][0] == tag:
                del self._stack[i:]
                return

    def handle_data(self, data):
        hidden, code = self._stack[-1][1:] if self._stack else (False, False)
        if not hidden:
            (self.code_text if code else self.text).append(data)


def parse(path):
    page = Page()
    with open(path, encoding="utf-8", errors="replace") as f:
        page.feed(f.read())
    page.close()
    return page


def resolve(site, source, value):
    """(kind, target file, fragment) of a link found in file `source`. kind: 'local',
    'external', 'skip' (mailto:, javascript:, data:, a bare '#'), 'outside', 'file-url'."""
    value = value.strip()
    if not value or value == "#" or re.match(r"(?i)(mailto|javascript|data|tel):", value):
        return "skip", None, None
    if re.match(r"(?i)(https?:)?//", value):
        return "external", None, None
    if re.match(r"(?i)[a-z][a-z0-9+.-]*:", value):
        return "file-url", None, None
    path, fragment = urllib.parse.urldefrag(value)
    path = urllib.parse.unquote(path.split("?")[0])
    target = os.path.normpath(os.path.join(os.path.dirname(source), path)) if path else source
    if os.path.commonpath([os.path.abspath(target), site]) != site:
        return "outside", target, fragment
    if os.path.isdir(target):
        target = os.path.join(target, "index.html")
    return "local", target, urllib.parse.unquote(fragment)


def enum_value_of_listed_enum(fragment, ids):
    """Doxygen names an enum value's anchor after its enum's: 'a' + 32 hex digits, twice. A file
    page lists a namespace's enum as one row (memitem:ENUM) without anchors for the values, and
    the sidebar links the values there: the link lands on the enum's row, which is fine."""
    return re.fullmatch(r"a[0-9a-f]{32}a[0-9a-f]{32}", fragment) is not None and fragment[:33] in ids


def check_links(site, pages):
    """Checks links of the .html pages and of the other files that hold links. Returns
    ({file: [errors]}, {file: [notes]}, counts)."""
    ids = {path: page.ids for path, page in pages.items()}
    sources = {path: [(t, a, v, line) for t, a, v, line in page.links] for path, page in pages.items()}
    # The sidebar's tree (navtreedata.js, navtreeindex*.js), Doxygen's graphs (SVG) and our CSS.
    for root, dirs, files in os.walk(site):
        dirs[:] = [d for d in dirs if os.path.join(root, d) != os.path.join(site, "mathjax")]
        for name in files:
            path = os.path.join(root, name)
            if name.startswith("navtree") and name.endswith(".js"):
                pattern, tag = r'"([\w.-]+\.html(?:#[\w.-]+)?)"', "a"
            elif os.path.basename(root) == "search" and name.endswith(".js"):
                pattern, tag = r"'(\.\./[^']+\.html(?:#[^']*)?)'", "a"  # the search index
            elif name.endswith(".svg"):
                pattern, tag = r'(?:xlink:)?href="([^"]+)"', "a"
            elif name.endswith(".css"):
                pattern, tag = r'url\(\s*[\'"]?([^\'")]+)[\'"]?\s*\)', "img"
            else:
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            sources[path] = [(tag, "ref", m.group(1), text.count("\n", 0, m.start()) + 1)
                             for m in re.finditer(pattern, text)]

    errors, notes, counts = {}, {}, {"local": 0, "external": 0}
    for source, links in sources.items():
        summary = pages[source].summary_links if source in pages else set()
        for tag, attr, value, line in links:
            kind, target, fragment = resolve(site, source, value)
            problem = None
            if kind == "external":
                counts["external"] += 1
                if tag not in FOLLOWED:
                    problem = f"loads {value} from the network (the site must work offline)"
            elif kind == "file-url":
                problem = f"absolute URL {value} (not portable)"
            elif kind == "outside":
                problem = f"{value} points outside the site"
            elif kind == "local":
                counts["local"] += 1
                if not os.path.isfile(target):
                    problem = f"{value}: no such file"
                elif fragment and target.endswith(".html") and fragment not in ids.get(target, set()) \
                        and not enum_value_of_listed_enum(fragment, ids.get(target, set())):
                    problem = f"{value}: no anchor #{fragment} in {os.path.relpath(target, site)}"
                    if value in summary:  # Doxygen's own section bar, not the text: a note
                        notes.setdefault(source, []).append(
                            f"Doxygen's section bar links {value}, a section it did not write "
                            "(1.9.4 does this for a class whose nested classes are all private)")
                        problem = None
            if problem:
                errors.setdefault(source, []).append(f"line {line}: <{tag}> {problem}")
    return errors, notes, counts


def chromium_cmd(profile, extra):
    cmd = [CHROMIUM, "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-extensions", "--mute-audio", "--hide-scrollbars", f"--user-data-dir={profile}"]
    if os.geteuid() == 0:
        cmd.insert(2, "--no-sandbox")  # Chromium's sandbox refuses to run as root
    return cmd + extra


class Chromium:
    """One headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
    JSON messages ending in NUL, commands on the browser's fd 3, answers on its fd 4), so that
    every page is loaded in a fresh tab of one browser, and console messages come with their
    level. Only the standard library: no websocket, no pip package."""

    def __init__(self, timeout):
        self.timeout, self.next_id = timeout, 0
        self.responses, self.events = {}, {}
        self.messages = queue.Queue()
        self.profile = tempfile.TemporaryDirectory(prefix="ptt-check-site-")
        self.log = tempfile.TemporaryFile()
        cmd_read, self.cmd_write = os.pipe()
        self.res_read, res_write = os.pipe()

        def browser_fds():  # in the child: our pipe ends become its fds 3 and 4
            a, b = os.dup(cmd_read), os.dup(res_write)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(chromium_cmd(self.profile.name, ["--remote-debugging-pipe", "about:blank"]),
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     preexec_fn=browser_fds, pass_fds=(3, 4))
        os.close(cmd_read)
        os.close(res_write)
        threading.Thread(target=self._read, daemon=True).start()
        self.send("Target.getTargets")  # the browser answers: it is up

    def _read(self):
        pending = b""
        while True:
            chunk = os.read(self.res_read, 1 << 16)
            if not chunk:
                self.messages.put(None)
                return
            pending += chunk
            *complete, pending = pending.split(b"\0")
            for raw in complete:
                self.messages.put(json.loads(raw))

    def _pump(self, deadline):
        try:
            message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            return
        if message is None:
            raise RuntimeError("Chromium exited: " + self.stderr_tail())
        if "id" in message:
            self.responses[message["id"]] = message
        else:
            self.events.setdefault(message.get("sessionId"), []).append(message)

    def send(self, method, params=None, session=None, timeout=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.cmd_write, data):]
        deadline = time.monotonic() + (timeout or self.timeout)
        while self.next_id not in self.responses:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method}: no answer in {timeout or self.timeout} s")
            self._pump(deadline)
        answer = self.responses.pop(self.next_id)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    def wait_event(self, session, method, timeout):
        deadline = time.monotonic() + timeout
        while not any(e["method"] == method for e in self.events.get(session, [])):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} in {timeout} s")
            self._pump(deadline)

    def settle(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._pump(deadline)

    def evaluate(self, session, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression[:40]}...: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def open(self, url, width=1280, height=2000):
        """Loads url in a fresh tab of the given size and waits until it is loaded and MathJax
        (if the page has it) has typeset everything. Returns the tab's session."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.events[session] = []
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                         "deviceScaleFactor": 1, "mobile": False}, session)
        self.send("Page.navigate", {"url": url}, session)
        self.wait_event(session, "Page.loadEventFired", self.timeout)
        self.evaluate(session, MATHJAX_DONE)
        self.settle(0.3)  # late loads (the sidebar's index scripts) report their errors
        return target, session

    def close_tab(self, target, session):
        self.send("Target.closeTarget", {"targetId": target})
        self.events.pop(session, None)

    def console(self, session):
        """(errors, warnings) the tab reported: exceptions, console.error/warn, failed loads."""
        errors, warnings = [], []
        for event in self.events.get(session, []):
            params = event.get("params", {})
            if event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = (details.get("exception", {}).get("description") or details.get("text") or "")
                text = text.splitlines()[0] if text else "(no message)"
                errors.append(f"uncaught exception: {text} ({details.get('url', '')}:{details.get('lineNumber', '')})")
            elif event["method"] == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert", "warning"):
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                (warnings if params["type"] == "warning" else errors).append(f"console.{params['type']}: {text}")
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                entry = params["entry"]
                text = f"{entry['source']}: {entry['text']}" + (f" ({entry['url']})" if entry.get("url") else "")
                (errors if entry["level"] == "error" else warnings).append(text)
        return errors, warnings

    def stderr_tail(self):
        self.log.seek(0)
        lines = [l for l in self.log.read().decode(errors="replace").splitlines() if "dbus" not in l]
        return (lines or ["(nothing on stderr)"])[-1]

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd_write)
        self.profile.cleanup()


# Resolves when MathJax 2 has typeset the page (its queue runs in order), or at once without it.
MATHJAX_DONE = """new Promise(function (done) {
  setTimeout(function () { done("timeout"); }, 20000);
  if (!window.MathJax || !window.MathJax.Hub) { done("no MathJax"); return; }
  MathJax.Hub.Queue(function () { done("typeset"); });
})"""


def load(browser, path, page):
    """Loads one page; returns (errors, notes)."""
    try:
        target, session = browser.open("file://" + urllib.parse.quote(path))
        errors, warnings = browser.console(session)
        html_text = browser.evaluate(session, "document.documentElement.outerHTML")
        browser.close_tab(target, session)
    except (RuntimeError, TimeoutError) as e:
        return [f"Chromium: {e}"], ""
    dom = RenderedDom()
    dom.feed(html_text)
    dom.close()
    text = "".join(dom.text)
    for marker in RAW_TEX:
        if marker in text:
            at = text.index(marker)
            snippet = " ".join(text[max(0, at - 30):at + 40].split())
            errors.append(f"raw TeX {marker} left in the page: ...{snippet}...")
    for message in MATH_ERRORS:
        if message in text:
            errors.append(f"MathJax error in the page: {message}")
    notes = []
    if page.formulas:
        notes.append(f"formulas {dom.rendered}/{page.formulas} rendered by MathJax")
        if dom.rendered < page.formulas:
            errors.append(f"MathJax rendered {dom.rendered} of {page.formulas} formulas")
    notes += [f"console warning: {w}" for w in warnings]
    return errors, ", ".join(notes)


def screenshot(browser, path, out):
    """Chapter 02 as a reader sees it in a 1280x2000 window, formulas typeset."""
    try:
        target, session = browser.open("file://" + urllib.parse.quote(path), 1280, 2000)
        browser.settle(2.0)  # let fonts and the sidebar's scripts finish before the picture
        data = browser.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
        browser.close_tab(target, session)
    except (RuntimeError, TimeoutError) as e:
        return f"no screenshot: {e}"
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "wb") as f:
        f.write(base64.b64decode(data))
    return None


def hand_written(site):
    """The main page and every page listed under Related Pages (pages.html), in that order."""
    names = ["index.html"]
    pages_html = os.path.join(site, "pages.html")
    if os.path.isfile(pages_html):
        for _, _, value, _ in parse(pages_html).links:
            kind, target, _ = resolve(site, pages_html, value)
            name = os.path.relpath(target, site) if kind == "local" else None
            if name and name.endswith(".html") and "/" not in name and name not in names \
                    and name != "pages.html":
                names.append(name)
    return names


def main():
    parser = argparse.ArgumentParser(description="Checks the built site: links, then every page in headless Chromium.")
    parser.add_argument("html_dir", help="the site, e.g. build/docs/html")
    parser.add_argument("--screenshot", help="where chapter 02's screenshot goes (default: HTML_DIR/../chapter02.png)")
    parser.add_argument("--max-api", type=int, default=60,
                        help="load every API page when there are at most this many (default 60)")
    parser.add_argument("--sample-api", type=int, default=10, help="else load this many of them (default 10)")
    parser.add_argument("--all", action="store_true", help="load every API page (about a second each)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds a page may take to load (default 60)")
    parser.add_argument("--no-browser", action="store_true", help="check links only")
    args = parser.parse_args()

    site = os.path.abspath(args.html_dir)
    if not os.path.isfile(os.path.join(site, "index.html")):
        print(f"check_site: {args.html_dir}: no index.html (build the site first: ./tutorial docs)", file=sys.stderr)
        return 2
    if not args.no_browser and not shutil.which(CHROMIUM):
        print(f"check_site: {CHROMIUM} not found (apt install chromium)", file=sys.stderr)
        return 2
    shot = args.screenshot or os.path.join(os.path.dirname(site), "chapter02.png")

    # Every .html page of the site but MathJax's own. All have their links checked; the browser
    # loads those at the top level (search/*.html are helpers the search box loads in a frame).
    pages = {}
    for root, dirs, files in os.walk(site):
        dirs[:] = sorted(d for d in dirs if os.path.join(root, d) != os.path.join(site, "mathjax"))
        for name in sorted(files):
            if name.endswith(".html"):
                pages[os.path.join(root, name)] = parse(os.path.join(root, name))
    link_errors, link_notes, counts = check_links(site, pages)

    names = hand_written(site)
    written = [os.path.join(site, n) for n in names if os.path.join(site, n) in pages]
    api = sorted(p for p in pages if p not in written and os.path.dirname(p) == site)
    if args.all or len(api) <= args.max_api:
        loaded, how = written + api, f"all {len(written)} hand-written pages and all {len(api)} API pages"
    else:
        # The indexes a reader starts from, then pages spread evenly over the rest (not the
        # near-empty pages Doxygen writes for the .md inputs themselves).
        first = [p for p in (os.path.join(site, n) for n in ("annotated.html", "files.html",
                                                               "namespaceptt.html")) if p in api]
        rest = [p for p in api if p not in first and not p.endswith("_8md.html")]
        count = max(0, min(len(rest), args.sample_api - len(first)))
        sample = first[:args.sample_api] + [rest[int(i * len(rest) / count)] for i in range(count)]
        loaded = written + sample
        how = (f"all {len(written)} hand-written pages and {len(sample)} of {len(api)} API pages "
               f"(the indexes, then evenly spread; --all loads them all)")
    if args.no_browser:
        loaded, how = [], "none (--no-browser)"

    results, shot_error, browser = {}, None, None
    if not args.no_browser:
        print(f"check_site: loading {len(loaded)} pages in headless Chromium ...", flush=True)
        try:
            browser = Chromium(args.timeout)
            for path in loaded:
                results[path] = load(browser, path, pages[path])
            chapter02 = os.path.join(site, CHAPTER02)
            shot_error = screenshot(browser, chapter02, shot) if os.path.isfile(chapter02) \
                else f"{CHAPTER02} is not in the site"
        except (RuntimeError, TimeoutError, OSError) as e:
            print(f"check_site: Chromium failed: {e}", file=sys.stderr)
            return 2
        finally:
            if browser:
                browser.close()

    failed = 0
    order = written + [p for p in sorted(pages) if p not in written]
    for path in order:
        rel = os.path.relpath(path, site)
        errors = link_errors.get(path, []) + (results[path][0] if path in results else [])
        notes = ", ".join(x for x in (f"{len(pages[path].links)} links",
                                       "loaded" if path in results else "links only",
                                       results[path][1] if path in results else "") if x)
        print(f"{'FAIL' if errors else 'ok  '}  {rel}  ({notes})")
        for error in errors:
            print(f"        {error}")
        for note in link_notes.get(path, []):
            print(f"        note: {note}")
        failed += bool(errors)
    others = {p: e for p, e in link_errors.items() if p not in pages}
    for path, errors in sorted(others.items()):
        print(f"FAIL  {os.path.relpath(path, site)}")
        for error in errors:
            print(f"        {error}")
        failed += 1

    if not args.no_browser:
        print(f"{'FAIL' if shot_error else 'ok  '}  screenshot of chapter 02: {shot_error or shot}")

    print(f"\ncheck_site: {len(pages)} pages; {counts['local']} local links checked, "
          f"{counts['external']} external links not followed; loaded in Chromium: {how}.")
    if failed or shot_error:
        print(f"check_site: FAILED: {failed} file(s) with errors" + ("; no screenshot" if shot_error else ""))
        return 1
    print("check_site: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
