#!/usr/bin/env bash
# Rebuild static/govuk/ (govuk-frontend CSS + JS) for Meridian.
#
# Needs node + npm and access to the npm registry. node_modules never lands
# in the repo: packages are installed in a scratch directory.
#
# Usage: static/govuk/build/build.sh [scratch-dir]     (default: a new temp dir)
set -euo pipefail

GOVUK_FRONTEND_VERSION=6.3.0
SASS_VERSION=1.108.2

BUILD_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"   # static/govuk/build
OUT="$(dirname "$BUILD_SRC")"                                 # static/govuk
WORK="${1:-${GOVUK_BUILD_DIR:-$(mktemp -d -t govuk-build.XXXXXX)}}"
mkdir -p "$WORK"
cd "$WORK"

[ -f package.json ] || npm init -y >/dev/null
# --ignore-scripts: the only install script is sass's optional file watcher.
npm install --no-audit --no-fund --ignore-scripts --save-exact \
  "govuk-frontend@${GOVUK_FRONTEND_VERSION}" "sass@${SASS_VERSION}"

GOVUK="$WORK/node_modules/govuk-frontend/dist/govuk"

# 1. Compile govuk-frontend's Sass with Meridian's settings.
npx --no-install sass --no-source-map --style=compressed --load-path=node_modules \
  "$BUILD_SRC/meridian-govuk.scss" "$WORK/govuk-frontend.full.min.css"

# 2. Drop the footer's crown / Crown-copyright crest rules (.govuk-footer__crown,
#    .govuk-footer__copyright-logo): Meridian is not a GOV.UK service and must
#    not show Crown imagery. Empty @media/@supports blocks left behind go too.
node - "$WORK/govuk-frontend.full.min.css" "$OUT/govuk-frontend.min.css" <<'JS'
const fs = require("fs");
const [src, dest] = process.argv.slice(2);
const banned = /govuk-footer__crown|govuk-footer__copyright-logo/;
let css = fs.readFileSync(src, "utf8");
// A style rule in compressed output: selector{declarations} (no nested braces).
css = css.replace(/(?<=^|[{};])([^{}@;]+)\{([^{}]*)\}/g, (rule, selector, body) => {
  if (!banned.test(selector)) return rule;
  const kept = selector.split(",").filter((part) => !banned.test(part));
  return kept.length ? `${kept.join(",")}{${body}}` : "";
});
// Dart Sass turns the details component's IE hack `@media screen\0` into a
// literal U+FFFD; write it back as the escape the upstream build ships.
css = css.replace(/\uFFFD/g, "\\0 ");
let prev;
do {
  prev = css;
  css = css.replace(/@(media|supports)[^{}]*\{\}/g, "");
} while (css !== prev);
if (/crown|crest|@font-face|GDS Transport/i.test(css)) {
  console.error("build.sh: forbidden string still in CSS");
  process.exit(1);
}
fs.writeFileSync(dest, css.endsWith("\n") ? css : css + "\n");
JS

# Check that the result still parses as CSS.
npx --no-install sass --no-source-map "$OUT/govuk-frontend.min.css" > /dev/null

# 3. The package's prebuilt ES module bundle, unmodified (exports initAll etc.).
cp "$GOVUK/govuk-frontend.min.js" "$OUT/govuk-frontend.min.js"

echo "$GOVUK_FRONTEND_VERSION" > "$OUT/VERSION"

# 4. Sanity checks.
installed="$(node -p "require('$WORK/node_modules/govuk-frontend/package.json').version")"
[ "$installed" = "$GOVUK_FRONTEND_VERSION" ] || { echo "installed govuk-frontend $installed" >&2; exit 1; }
if grep -Eiq '@font-face|GDS Transport|crown' "$OUT/govuk-frontend.min.css"; then
  echo "forbidden string in govuk-frontend.min.css" >&2; exit 1
fi
ls -l "$OUT/govuk-frontend.min.css" "$OUT/govuk-frontend.min.js"
echo "built govuk-frontend $GOVUK_FRONTEND_VERSION into $OUT (scratch: $WORK)"
