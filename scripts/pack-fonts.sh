#!/usr/bin/env bash
# Remakes the fonts the PDF exporter embeds (lekhika-export/fonts/*.z and index.json) from
# their sources; see lekhika-export/fonts/README.md.
#
#   scripts/pack-fonts.sh --check   every .z inflates, and deflates again to the same bytes;
#                                   sizes (needs only python3)
#   scripts/pack-fonts.sh           remake every .z, then index.json (python3, fonttools, cargo)
#
# Sources (override the directories with the variables):
#   TYPST_ASSETS   typst-assets 0.15.1 crate: Libertinus Serif, DejaVu Sans Mono
#                  (default: cargo's registry; else downloaded from crates.io)
#   NOTO_DIR       Debian fonts-noto-core and fonts-noto-color-emoji: Noto Serif/Sans
#                  Devanagari, Noto Color Emoji (default /usr/share/fonts/truetype/noto)
#   NOTO_CJK_DIR   Debian fonts-noto-cjk: NotoSerifCJK-Regular.ttc for the Mincho subset
#                  (default /usr/share/fonts/opentype/noto); the Sans subset is made from
#                  lekhika-export/fonts/NotoSansCJK-Regular.ttc, the same file
#   PYTHON         a python with fonttools for the two CJK subsets (default python3):
#                  python3 -m venv /tmp/ft && /tmp/ft/bin/pip install fonttools
#
# Without the Debian packages: apt-get download fonts-noto-core fonts-noto-cjk
# fonts-noto-color-emoji && for d in *.deb; do dpkg -x "$d" root; done, then
# NOTO_DIR=root/usr/share/fonts/truetype/noto NOTO_CJK_DIR=root/usr/share/fonts/opentype/noto.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FONTS="$ROOT/lekhika-export/fonts"

if [[ "${1:-}" == "--check" ]]; then
    python3 - "$FONTS" <<'PY'
import glob, os, sys, zlib
total_font = total_packed = 0
for z in sorted(glob.glob(os.path.join(sys.argv[1], "*.z"))):
    packed = open(z, "rb").read()
    font = zlib.decompress(packed)
    same = zlib.compress(font, 9) == packed
    total_font += len(font)
    total_packed += len(packed)
    print(f"{os.path.basename(z):40} {len(font)/1e6:6.2f} MB -> {len(packed)/1e6:6.2f} MB"
          f"{'' if same else '  (packed differently: not by pack.py with this zlib)'}")
print(f"{'all .z files':40} {total_font/1e6:6.2f} MB -> {total_packed/1e6:6.2f} MB")
PY
    exit 0
fi

PYTHON="${PYTHON:-python3}"
NOTO_DIR="${NOTO_DIR:-/usr/share/fonts/truetype/noto}"
NOTO_CJK_DIR="${NOTO_CJK_DIR:-/usr/share/fonts/opentype/noto}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

if [[ -z "${TYPST_ASSETS:-}" ]]; then
    TYPST_ASSETS="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/typst-assets-0.15.1 2>/dev/null | head -n 1 || true)"
fi
if [[ -z "$TYPST_ASSETS" ]]; then
    curl -sSfL https://static.crates.io/crates/typst-assets/typst-assets-0.15.1.crate | tar -xz -C "$TMP"
    TYPST_ASSETS="$TMP/typst-assets-0.15.1"
fi

"$PYTHON" -c 'import fontTools' 2>/dev/null || {
    echo "$PYTHON has no fonttools (python3 -m venv /tmp/ft && /tmp/ft/bin/pip install fonttools; PYTHON=/tmp/ft/bin/python)" >&2
    exit 1
}
(cd "$TMP" && "$PYTHON" "$FONTS/subset-sans-cjk.py" "$FONTS/NotoSansCJK-Regular.ttc" NotoSansCJK-Regular-subset.ttc)
(cd "$TMP" && "$PYTHON" "$FONTS/subset-serif-jp.py" "$NOTO_CJK_DIR/NotoSerifCJK-Regular.ttc" NotoSerifCJKjp-Regular-subset.otf)

python3 "$FONTS/pack.py" \
    "$TYPST_ASSETS"/files/fonts/LibertinusSerif-{Regular,Bold,Italic,BoldItalic}.otf \
    "$TYPST_ASSETS"/files/fonts/DejaVuSansMono{,-Bold,-Oblique,-BoldOblique}.ttf \
    "$NOTO_DIR"/Noto{Serif,Sans}Devanagari-{Regular,Bold}.ttf \
    "$NOTO_DIR"/NotoColorEmoji.ttf \
    "$TMP"/NotoSansCJK-Regular-subset.ttc \
    "$TMP"/NotoSerifCJKjp-Regular-subset.otf

cd "$ROOT"
LEKHIKA_WRITE_FONT_INDEX=1 cargo test -q -p lekhika-export --lib font_index
cargo test -q -p lekhika-export --lib font_index
git -C "$ROOT" status --short -- lekhika-export/fonts
