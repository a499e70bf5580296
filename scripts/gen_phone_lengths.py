#!/usr/bin/env python3
"""Write data/phone_lengths.csv: each region's calling code and the possible lengths of its
national numbers, from libphonenumber's metadata (PhoneNumberMetadata.xml).

The metadata read is the copy the `phonenumber` crate (a dev-dependency) ships, so that the
table and the test that checks it against the crate (`phone::tests`) read the same release.
Run from the repository root after `cargo fetch`: python3 scripts/gen_phone_lengths.py [XML]

A region's possible lengths are, as libphonenumber's own metadata build computes them for its
general description, the union of the `national` possibleLengths of every number type but
`noInternationalDialling` (numbers that cannot be reached from abroad). Local-only lengths
(numbers dialled without their area code) are left out: a log holds full numbers.
"""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def metadata_xml():
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1"], text=True))
    crate = next(p for p in meta["packages"] if p["name"] == "phonenumber")
    return Path(crate["manifest_path"]).parent / "assets" / "PhoneNumberMetadata.xml"


def lengths(text):
    """`9`, `7,9`, `[6-8],10` -> the set of lengths (`-1` marks a type with no numbers)."""
    out = set()
    for part in text.split(","):
        part = part.strip()
        if part.startswith("["):
            lo, hi = part[1:-1].split("-")
            out.update(range(int(lo), int(hi) + 1))
        elif part != "-1":
            out.add(int(part))
    return out


def main():
    src = metadata_xml()
    root = ET.parse(src).getroot()
    rows = []
    for t in root.iter("territory"):
        found = set()
        for desc in t:
            if desc.tag == "noInternationalDialling":
                continue
            for pl in desc.iter("possibleLengths"):
                found |= lengths(pl.get("national", "-1"))
        rows.append((t.get("id"), t.get("countryCode"), found))
    rows.sort(key=lambda r: (int(r[1]), r[0]))
    out = Path("data/phone_lengths.csv")
    with open(out, "w", newline="") as f:
        f.write("region,calling_code,national_lengths\n")
        for region, code, found in rows:
            f.write(f"{region},{code},{' '.join(str(n) for n in sorted(found))}\n")
    print(f"{out}: {len(rows)} regions from {src}")


main()
