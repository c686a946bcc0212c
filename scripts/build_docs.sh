#!/usr/bin/env bash
# Builds the documentation site and checks it in a real browser:
#
#   scripts/build_docs.sh [OUTDIR]        (default build/docs; the site is OUTDIR/html)
#
# 1. renders docs/diagrams/*.dot to SVG (graphviz) into OUTDIR/diagrams, where docs/Doxyfile's
#    IMAGE_PATH finds them;
# 2. runs Doxygen with docs/Doxyfile from the repository root; any warning fails the build
#    (WARN_AS_ERROR = FAIL_ON_WARNINGS: the whole run finishes, so every warning is listed);
# 3. copies MathJax from Debian's libjs-mathjax into OUTDIR/html/mathjax (links dereferenced),
#    so formulas render offline, with no CDN;
# 4. runs scripts/check_site.py: links, every page in headless Chromium, a screenshot of
#    chapter 02 (OUTDIR/chapter02.png).
#
# Needs Debian's doxygen graphviz doxygen-awesome-css libjs-mathjax chromium (./tutorial docs
# installs them). The plots in docs/images are committed; remake them with scripts/make_plots.py.
# PTT_DOCS_NO_BROWSER=1 skips step 4's browser part (links are still checked).
# Exit codes: 0 built and checked, 1 a Doxygen warning or a failed check, 2 a missing tool.
set -euo pipefail

cd "$(dirname "$0")/.."
out=${1:-build/docs}

missing=()
for tool in doxygen:doxygen dot:graphviz perl:perl; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
[[ -f /usr/share/doxygen-awesome-css/doxygen-awesome.css ]] || missing+=(doxygen-awesome-css)
[[ -f /usr/share/javascript/mathjax/MathJax.js ]] || missing+=(libjs-mathjax)
[[ -n ${PTT_DOCS_NO_BROWSER:-} || -x /usr/bin/chromium ]] || missing+=(chromium)
if ((${#missing[@]})); then
  echo "build_docs: missing: ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 2
fi

rm -rf "$out/html" "$out/diagrams"
mkdir -p "$out/diagrams"

# 1. The diagrams.
for dot_file in docs/diagrams/*.dot; do
  dot -Tsvg "$dot_file" -o "$out/diagrams/$(basename "${dot_file%.dot}").svg"
done

# 2. Doxygen. Warnings go to stderr (QUIET = YES keeps stdout empty); any line there fails.
export PTT_DOCS_OUT=$out PTT_DOCS_DIAGRAMS=$out/diagrams
log=$out/doxygen-warnings.log
status=0
doxygen docs/Doxyfile 2>"$log" || status=$?
if ((status != 0)) || [[ -s $log ]]; then
  cat "$log" >&2
  echo "build_docs: Doxygen failed (exit $status, $(grep -c . "$log") line(s) of warnings above; also in $log)" >&2
  exit 1
fi

# 3. MathJax 2.7 into the site (docs/Doxyfile: MATHJAX_RELPATH = mathjax). Debian's copy is a
# tree of symbolic links into other packages (fonts-mathjax): cp -L copies the files. The
# unpacked/ sources and the test/ pages are not needed to render.
mkdir -p "$out/html/mathjax"
for entry in /usr/share/javascript/mathjax/*; do
  case $(basename "$entry") in unpacked | test) continue ;; esac
  cp -rL "$entry" "$out/html/mathjax/"
done

echo "build_docs: built $out/html ($(find "$out/html" -name '*.html' -not -path '*/mathjax/*' | wc -l) pages)"

# 4. The check.
check=(/usr/bin/python3 scripts/check_site.py "$out/html" --screenshot "$out/chapter02.png")
[[ -z ${PTT_DOCS_NO_BROWSER:-} ]] || check+=(--no-browser)
"${check[@]}"
