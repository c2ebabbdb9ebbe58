"""Packs font files for the PDF exporter: zlib-compresses each FILE into FILE.z in this folder.

The exporter compiles the `.z` files into the binary (include_bytes!) and inflates a file the
first time typst needs one of its faces, once per process (see src/export/pdf/fonts.rs).
After packing a new or changed font, refresh index.json (the faces and typst's description of
each, so the font book is known without inflating anything):

    python3 pack.py /usr/share/fonts/truetype/noto/NotoSerifDevanagari-Regular.ttf ...
    LEKHIKA_WRITE_FONT_INDEX=1 cargo test -p lekhika-export --lib font_index

scripts/pack-fonts.sh at the repository root does all of it for every font, from the sources.
"""
import os
import sys
import zlib

for src in sys.argv[1:]:
    data = open(src, "rb").read()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.path.basename(src) + ".z")
    packed = zlib.compress(data, 9)
    open(out, "wb").write(packed)
    print(f"{os.path.basename(out)}: {len(data):,} -> {len(packed):,} bytes")
