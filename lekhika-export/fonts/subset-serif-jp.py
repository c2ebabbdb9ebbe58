"""Makes NotoSerifCJKjp-Regular-subset.otf, the Japanese Mincho (serif) face of the PDF exporter.

Source: NotoSerifCJK-Regular.ttc from Debian's fonts-noto-cjk (face 0, "Noto Serif CJK JP").
Kept: Latin, general punctuation and symbols, CJK punctuation, kana, full-width forms, and every
kanji of JIS X 0208 (levels 1 and 2, 6,355 kanji: what Shift_JIS encodes), with the OpenType
features typst uses for horizontal Japanese (ccmp, kern, palt, halt, chws). Without `locl` (its
Korean/Chinese forms double the glyph count) and without variation sequences. Rarer kanji fall
back to Noto Sans CJK JP. About 2.3 MB instead of 26 MB for all five regions.

    python3 -m venv v && v/bin/pip install fonttools
    v/bin/python subset-serif-jp.py /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc
"""
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection

src = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else "NotoSerifCJKjp-Regular-subset.otf"
font = TTCollection(src).fonts[0]
cmap = font.getBestCmap()
font["cmap"].tables = [t for t in font["cmap"].tables if t.format != 14]
keep = set()
for cp in cmap:
    if cp < 0x250 or 0x2000 <= cp <= 0x27BF:
        keep.add(cp)
    elif 0x3000 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0x3200 <= cp <= 0x33FF or 0xFF00 <= cp <= 0xFFEF:
        keep.add(cp)
    else:
        try:
            chr(cp).encode("shift_jis")
            keep.add(cp)
        except UnicodeEncodeError:
            pass
opts = subset.Options()
opts.layout_features = ["ccmp", "kern", "palt", "halt", "chws"]
opts.name_IDs = ["*"]
opts.name_languages = ["*"]
opts.notdef_outline = True
opts.hinting = False
s = subset.Subsetter(opts)
s.populate(unicodes=keep)
s.subset(font)
font.recalcTimestamp = False  # keep the source's head.modified: the same bytes every time
font.save(out)
print(out, len(keep), "code points,", len(font.getGlyphOrder()), "glyphs")
