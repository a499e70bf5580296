#!/usr/bin/env python3
"""Build the Viber, WhatsApp-session and fx files in rates/ from ../shared/reference/.

Run from the repository root: python3 scripts/build_rates.py [REFERENCE_DIR] [--meta-out DIR]
Every output row keeps the source, date and note of the reference row it came from;
no number is computed except where stated (none is: prices are copied as published).

The Meta files are NOT built here any more (issue 20): rates/whatsapp-meta-prices.csv,
rates/whatsapp-markets.csv and rates/whatsapp-meta-tiers.csv are corrected in rates/, which is
their source of truth; the reference files do not follow those corrections. `--meta-out DIR`
copies the reference Meta files into DIR for comparison; it refuses rates/ itself and any file
that already exists, so a corrected card is never overwritten (exit 2).
"""
import csv
import sys
from pathlib import Path

META_FILES = {"whatsapp/markets.csv": "whatsapp-markets.csv", "whatsapp/rates.csv": "whatsapp-meta-prices.csv"}

args = sys.argv[1:]
meta_out = None
if "--meta-out" in args:
    i = args.index("--meta-out")
    if i + 1 >= len(args):
        sys.exit("build_rates.py: --meta-out needs a directory")
    meta_out = Path(args[i + 1])
    del args[i:i + 2]
ref = Path(args[0] if args else "../shared/reference")
out = Path("rates")


def viber():
    rows = list(csv.DictReader(open(ref / "viber/rates.csv", newline="")))
    vbm = {}
    for r in rows:
        if r["product"] != "business-messages":
            continue
        c = vbm.setdefault(r["country"], {"name": r["country_name"], "source": r["source"], "date": r["date"]})
        c[r["item"]] = r["price"]
    with open(out / "viber-prices.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["country", "effective_from", "session", "transactional", "promotional", "international",
                    "country_name", "source", "date", "note"])
        for cc, c in vbm.items():
            msg = c.get("international_message", "")
            w.writerow([cc, "", c.get("session", ""), msg, msg, msg, c["name"], c["source"], c["date"],
                        "SMSBAT Chat Session Pricing (undated, staging host, indicative): session = per 24 h session; "
                        "international = the source's 'International message rate'; transactional = promotional = "
                        "the same rate (the source gives no domestic rate and does not split by type)"])
    with open(out / "viber-chatbot-prices.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["country", "effective_from", "session", "transactional", "promotional", "country_name", "source", "date", "note"])
        for r in rows:
            if r["product"] != "chatbot":
                continue
            if r["item"] == "session":
                w.writerow(["*", r["date"], r["price"], "", "", "all countries", r["source"], r["date"], r["note"]])
            elif r["item"] == "chatbot_initiated":
                p = r["price"]
                w.writerow([r["country"], "", "0", p, p, r["country_name"], r["source"], r["date"], r["note"]])


def whatsapp_session():
    # csv keeps "NA" (Namibia) as a string; no NA-to-missing conversion happens here
    markets = list(csv.DictReader(open(ref / "whatsapp/markets.csv", newline="", encoding="utf-8")))
    rates = [r for r in csv.DictReader(open(ref / "whatsapp/rates.csv", newline="", encoding="utf-8"))
             if r["effective_from"] == "2022-02-01" and r["currency"] == "EUR"]
    by_market = {r["market"]: r for r in rates}
    day = "2022-02-01"
    with open(out / "whatsapp-session-prices.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["country", "effective_from", "user_initiated", "business_initiated", "market", "source", "note"])
        other = by_market["Other"]
        w.writerow(["*", day, other["user_initiated"], other["business_initiated"], "Other", other["source"], other["note"]])
        seen = set()
        for m in markets:
            # the market a country belonged to on the card's date
            if m["from"] and m["from"] > day:
                continue
            if m["to"] and m["to"] < day:
                continue
            if m["market"] == "Other" or m["country"] in seen:
                continue
            seen.add(m["country"])
            r = by_market[m["market"]]
            w.writerow([m["country"], day, r["user_initiated"], r["business_initiated"], m["market"], r["source"], r["note"]])


def meta_reference_copy(dest):
    """Copy the reference Meta files to dest for comparison; never into rates/, never over a file."""
    if dest.resolve() == out.resolve():
        print(f"build_rates.py: refusing to write the Meta reference files into {out}/: "
              "rates/ is their source of truth (issue 20)", file=sys.stderr)
        sys.exit(2)
    for src, name in META_FILES.items():
        target = dest / name
        if target.exists():
            print(f"build_rates.py: refusing to overwrite {target}", file=sys.stderr)
            sys.exit(2)
    dest.mkdir(parents=True, exist_ok=True)
    for src, name in META_FILES.items():
        (dest / name).write_text((ref / src).read_text())


viber()
whatsapp_session()
(out / "fx.csv").write_text((ref / "fx.csv").read_text())
if meta_out is not None:
    meta_reference_copy(meta_out)
