"""Makes NotoSansCJK-Regular-subset.ttc, the Noto Sans CJK (gothic) faces of the PDF exporter.

Source: NotoSansCJK-Regular.ttc from Debian's fonts-noto-cjk (19 MB: JP, KR, SC, TC, HK and the
five Mono faces, 65,535 glyphs shared by all of them). Kept: the five proportional faces, each with
Latin, general punctuation and symbols, CJK punctuation, kana, full-width forms, every Hangul
syllable (11,172), and the ideographs of its region's standard character set, in its own regional
glyph forms:

    JP  JIS X 0208 + Microsoft's extensions (cp932, 6,716 kanji) + the four Jōyō kanji
        outside JIS X 0208 (𠮟 塡 剝 頰)
    SC  GB 2312 (6,763 hanzi)
    TC  Big5 (13,063 hanzi)
    HK  Big5 in Hong Kong forms (HKSCS additions are not kept)
    KR  KS X 1001 hanja (4,888)

All five faces keep the same glyph set (the union of what each maps) so that the collection still
shares one CFF table; layout features: ccmp, kern, palt, halt, chws (no `locl`: each face's cmap
already gives its region's forms; no vertical metrics: typst sets CJK horizontally). Ideographs
outside these sets (rare and historic ones) are not covered: build with the `pdf-cjk-full` feature
to embed the whole collection. About 7.9 MB instead of 19 MB.

    python3 -m venv v && v/bin/pip install fonttools
    v/bin/python subset-sans-cjk.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
"""
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection

src = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else "NotoSansCJK-Regular-subset.ttc"

IDEOGRAPHS = [
    *range(0x3400, 0x4DC0),
    *range(0x4E00, 0xA000),
    *range(0xF900, 0xFB00),
    *range(0x20000, 0x2FA20),
]
REGION_CODEC = {"JP": "cp932", "KR": "euc_kr", "SC": "gb2312", "TC": "big5", "HK": "big5"}
# Jōyō kanji (2010) that JIS X 0208 does not encode.
EXTRA = {"JP": {0x20B9F, 0x5861, 0x525D, 0x9830}}


def encodable(codec):
    keep = set()
    for cp in IDEOGRAPHS:
        try:
            chr(cp).encode(codec)
            keep.add(cp)
        except UnicodeEncodeError:
            pass
    return keep


def common(cp):
    return (
        cp < 0x250
        or 0x2000 <= cp <= 0x27BF
        or 0x3000 <= cp <= 0x30FF
        or 0x3130 <= cp <= 0x318F
        or 0x31F0 <= cp <= 0x31FF
        or 0x3200 <= cp <= 0x33FF
        or 0xAC00 <= cp <= 0xD7A3
        or 0xFF00 <= cp <= 0xFFEF
    )


collection = TTCollection(src)
faces = []
for font in collection.fonts:
    family = font["name"].getDebugName(1)
    region = family.rsplit(" ", 1)[-1]
    if family.startswith("Noto Sans CJK") and region in REGION_CODEC:
        faces.append((region, font))
assert len(faces) == 5, [r for r, _ in faces]

keep = {}
glyphs = set()
for region, font in faces:
    cmap = font.getBestCmap()
    ideographs = encodable(REGION_CODEC[region]) | EXTRA.get(region, set())
    keep[region] = {cp for cp in cmap if common(cp) or cp in ideographs}
    glyphs |= {cmap[cp] for cp in keep[region]}

opts = subset.Options()
opts.layout_features = ["ccmp", "kern", "palt", "halt", "chws"]
opts.drop_tables += ["vhea", "vmtx", "VORG"]
opts.name_IDs = ["*"]
opts.name_languages = ["*"]
opts.notdef_outline = True
opts.hinting = False
opts.glyph_names = False
for region, font in faces:
    font["cmap"].tables = [t for t in font["cmap"].tables if t.format != 14]
    s = subset.Subsetter(opts)
    s.populate(glyphs=sorted(glyphs), unicodes=keep[region])
    s.subset(font)
    print(region, len(keep[region]), "code points,", len(font.getGlyphOrder()), "glyphs")

result = TTCollection()
result.fonts = [font for _, font in faces]
for font in result.fonts:
    font.recalcTimestamp = False  # keep the source's head.modified: the same bytes every time
result.save(out, shareTables=True)
print(out)
