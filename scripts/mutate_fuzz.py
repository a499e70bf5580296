#!/usr/bin/env python3
"""Mutation fuzz of the simcost binary (the panic audit): mutates the fixtures of tests/fixtures
(logs, accounts files, bills, exports with --source, source profiles, a `rates export` directory)
and command-line values, runs replay/compare/breakeven/explain/advise/reconcile on them, and keeps
every run that exits 101, dies on a signal, times out or prints "panicked" in /tmp/pfuzz/out.

    cargo build --release && python3 scripts/mutate_fuzz.py CASES [SEED [KIND,KIND]]

BIN=target/debug/simcost runs the debug build (integer overflow checks on). KIND is one of
log_case, accounts_case, bill_case, export_case, model_case, cli_case, profile_case.
"""
import os, random, subprocess, sys, shutil, glob, json, collections

WT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", WT + "/target/release/simcost")
FX = WT + "/tests/fixtures"
OUT = "/tmp/pfuzz/out"
TMP = os.environ.get("FTMP", "/tmp/pfuzz/tmp")
os.makedirs(OUT, exist_ok=True)
os.makedirs(TMP, exist_ok=True)

HUGE = [b"79228162514264337593543950335", b"99999999999999999999999999999999",
        b"-79228162514264337593543950335", b"1.0000000000000000000000000001",
        b"0.0000000000000000000000000001", b"1e400", b"-1", b"-0", b"18446744073709551616",
        b"9223372036854775807", b"-9223372036854775808", b"4294967296", b"NaN", b"inf",
        b"9999-12-31", b"0000-01-01", b"9999-12-31T23:59:59Z", b"0000-01-01T00:00:00Z",
        b"1970-01-01T00:00:00Z", b"2262-04-12T00:00:00Z", b"2100-01-01 00:00:00",
        b"-262144-01-01T00:00:00Z", b"+262143-12-31T00:00:00Z",
        b"9999999999999", b"99999999999999999", b"0", b"", b"\"", b"\"\"", b"\xff\xfe",
        b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98\x80", b"\xd0\xbf\xd1\x80",
        b"\x00", b"x" * 5000, b"\xe2\x82\xac" * 100, b"1.5", b"0.", b".5", b"1,5",
        b"2026-02-29", b"2026-02-30", b"2024-02-29", b"+", b"+0", b"+1", b"+380", b"00",
        b"12345678901234567890123", b"1" * 28, b"0." + b"9" * 28, b"9" * 28 + b".9",
        b"1000000", b"1000", b"100%", b"-100%", b"1e-30",
        b"*", b"in", b"out", b"template", b"marketing", b"utility", b"\t", b" ", b"\r", b"\n"]


def read(p):
    with open(p, "rb") as f:
        return f.read()


def split_fields(line, sep=b","):
    return line.split(sep)


def mutate_bytes(data, rng, sep=b","):
    lines = data.split(b"\n")
    k = rng.randrange(14)
    if k == 0:  # truncate
        return data[: rng.randrange(len(data) + 1)]
    if k == 1:  # duplicate a line
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif k == 2:  # delete a line
        if len(lines) > 1:
            del lines[rng.randrange(len(lines))]
    elif k in (3, 4, 5, 6, 7, 8):  # replace a field with an interesting value
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            i = rng.randrange(len(lines))
            f = split_fields(lines[i], sep)
            j = rng.randrange(len(f))
            f[j] = rng.choice(HUGE)
            lines[i] = sep.join(f)
    elif k == 9:  # random byte flips
        b = bytearray(data)
        for _ in range(rng.randrange(1, 5)):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    elif k == 10:  # insert a byte
        b = bytearray(data)
        b.insert(rng.randrange(len(b) + 1), rng.choice(b'",\n\r\t\\\xff\x00;=[]{}#'))
        return bytes(b)
    elif k == 11:  # empty fields in a line
        i = rng.randrange(len(lines))
        lines[i] = sep.join(b"" for _ in split_fields(lines[i], sep))
    elif k == 12:  # swap lines (out of order times)
        if len(lines) > 2:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    elif k == 13:  # numbers in line scaled / negated
        i = rng.randrange(len(lines))
        import re
        lines[i] = re.sub(rb"\d+(\.\d+)?", lambda m: rng.choice([b"-" + m.group(0), m.group(0) * 5, b"0", m.group(0) + b"0" * 20]), lines[i], count=1)
    return b"\n".join(lines)


def mutate_toml(data, rng):
    import re
    lines = data.split(b"\n")
    k = rng.randrange(5)
    if k < 3:
        cand = [i for i, l in enumerate(lines) if b"=" in l]
        if cand:
            i = rng.choice(cand)
            key = lines[i].split(b"=", 1)[0]
            v = rng.choice(HUGE + [b"[]", b"{}", b"true", b"\"x\"", b"[1,2]", b"-5", b"0", b"\"-1\"",
                                   b"\"99999999999999999999999999999\"", b"1e308", b"\"9999-12-31\"", b"\"0000-01-01\"",
                                   b"\"0\"", b"0.0", b"\"\"", b"[\"x\"]", b"2147483648", b"4294967296", b"-2147483649"])
            if rng.random() < 0.5 and not v.startswith(b"\"") and v not in (b"[]", b"{}", b"true"):
                v = b"\"" + v.replace(b"\"", b"") + b"\""
            lines[i] = key + b"= " + v
    elif k == 3:
        i = rng.randrange(len(lines))
        del lines[i]
    else:
        return mutate_bytes(data, rng)
    return b"\n".join(lines)


def run(args, stdin=None, timeout=20):
    args = [a.replace("\x00", "") for a in args]
    try:
        p = subprocess.run([BIN] + args, capture_output=True, timeout=timeout, input=stdin, cwd=TMP)
        return p.returncode, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return "timeout", ""


LOGS = sorted(glob.glob(FX + "/*.csv") + glob.glob(FX + "/advise/*.csv") + glob.glob(FX + "/breakeven/*.csv")
              + [FX + "/reconcile/log.csv", FX + "/accounts/tz_month.csv", FX + "/accounts/intl.csv", FX + "/accounts/fee_tier.csv"])
LOGS = [l for l in LOGS if "fx.csv" not in l]


def log_case(rng):
    src = rng.choice(LOGS)
    data = mutate_bytes(read(src), rng)
    p = f"{TMP}/log.csv"
    open(p, "wb").write(data)
    rates = rng.choice([None, FX + "/rates", FX + "/breakeven", FX + "/accounts/rates"])
    cmd = rng.choice(["replay", "replay", "compare", "breakeven", "explain", "advise", "replay-ledger"])
    args = []
    if cmd == "replay-ledger":
        args = ["replay", p, "--ledger", f"{TMP}/ledger.csv", "--by", rng.choice(["account", "month", "country", "day"])]
    elif cmd == "explain":
        contacts = [l.split(b",")[1] for l in data.split(b"\n")[1:] if l.count(b",") >= 2]
        c = rng.choice(contacts).decode("utf-8", "replace") if contacts else "+380501110001"
        args = ["explain", p, "--contact", c or "x"]
    else:
        args = [cmd, p]
        if cmd == "breakeven" and rng.random() < 0.5:
            args += ["--plot", f"{TMP}/plot.svg"]
    if rates:
        args += ["--rates", rates]
    if rng.random() < 0.3:
        args += ["--tz", rng.choice(["Europe/Kyiv", "Asia/Kolkata", "Pacific/Kiritimati", "Etc/GMT+12", "America/St_Johns"])]
    if rng.random() < 0.2:
        args += ["--skip-invalid"]
    if rng.random() < 0.2:
        args += ["--format", rng.choice(["json", "csv", "table"])]
    return "log", src, args, data


def accounts_case(rng):
    src = rng.choice(glob.glob(FX + "/accounts/*_accounts.csv"))
    data = mutate_bytes(read(src), rng)
    p = f"{TMP}/acc.csv"
    open(p, "wb").write(data)
    log = rng.choice([FX + "/accounts/tz_month.csv", FX + "/accounts/intl.csv", FX + "/accounts/fee_tier.csv"])
    cmd = rng.choice(["replay", "compare", "advise"])
    args = [cmd, log, "--accounts", p, "--rates", FX + "/accounts/rates"]
    if rng.random() < 0.5:
        args += ["--by", rng.choice(["account", "month"])]
    return "accounts", src, args, data


BILLS = [FX + "/reconcile/invoice.csv", FX + "/reconcile/pricing_analytics.json", FX + "/reconcile/twilio.csv", FX + "/reconcile/webhook.jsonl"]


def bill_case(rng):
    src = rng.choice(BILLS)
    raw = read(src)
    data = mutate_bytes(raw, rng, sep=b"," if src.endswith("csv") else rng.choice([b",", b":", b"\""]))
    ext = os.path.splitext(src)[1]
    p = f"{TMP}/bill{ext}"
    open(p, "wb").write(data)
    args = ["reconcile", FX + "/reconcile/log.csv", "--bill", p, "--model", "whatsapp-meta"]
    if rng.random() < 0.3:
        args += ["--tolerance", rng.choice(["0", "1", "5%", "-1", "1e30", "79228162514264337593543950335", "100%", "0.0000000000000000000000000001"])]
    if rng.random() < 0.3:
        args += ["--details", f"{TMP}/details.csv"]
    if rng.random() < 0.3:
        args += ["--format", "json"]
    return "bill", src, args, data


EXPORTS = [("exports/b-twilio.csv", "twilio"), ("exports/b-infobip.csv", "infobip"), ("exports/b-meta-webhook.jsonl", "meta-webhook"),
           ("exports/b-twilio-whatsapp.csv", "twilio"), ("exports/a-infobip.csv", "infobip")]


def export_case(rng):
    src, source = rng.choice(EXPORTS)
    raw = read(FX + "/" + src)
    data = mutate_bytes(raw, rng, sep=b"," if src.endswith("csv") else rng.choice([b",", b":", b"\""]))
    p = f"{TMP}/exp" + os.path.splitext(src)[1]
    open(p, "wb").write(data)
    cmd = rng.choice(["replay", "compare", "advise", "explain"])
    args = [cmd, p, "--source", source, "--rates", FX + "/rates"]
    if cmd == "explain":
        args += ["--contact", "+14155550100"]
    return "export", src, args, data


MODELDIR = TMP + "/model0"


def model_case(rng):
    d = TMP + "/model"
    if os.path.exists(d):
        shutil.rmtree(d)
    shutil.copytree(MODELDIR, d)
    files = sorted(os.listdir(d))
    f = rng.choice(files)
    raw = read(d + "/" + f)
    data = mutate_toml(raw, rng) if f.endswith(".toml") else mutate_bytes(raw, rng)
    open(d + "/" + f, "wb").write(data)
    log = rng.choice([FX + "/viber_session.csv", FX + "/meta_category.csv", FX + "/reconcile/log.csv", FX + "/sms/" + "x", FX + "/meta_tiers.csv", FX + "/advise/whatsapp_meta.csv", FX + "/whatsapp_session.csv"])
    if not os.path.exists(log):
        log = FX + "/viber_fees.csv"
    cmd = rng.choice(["replay", "compare", "breakeven", "advise", "reconcile", "cards"])
    if cmd == "reconcile":
        args = ["reconcile", FX + "/reconcile/log.csv", "--bill", FX + "/reconcile/invoice.csv", "--model", "whatsapp-meta", "--rates", d]
    elif cmd == "cards":
        args = ["compare", "--cards", "--rates", d]
    else:
        args = [cmd, log, "--rates", d]
    return "model:" + f, f, args, data


CLI_VALUES = ["0", "-1", "1e30", "99999999999999999999", "18446744073709551616", "", "x", "9999-12-31", "0000-01-01",
              "2026-02-30", "100%", "101%", "-5%", "\xe2", "€", "1.5", "4294967296", "0.0000000000000000000000000001",
              "79228162514264337593543950335", "+99999", "Mars/Olympus", "ZZ", "EUR", "JPY", "255", "65536", "2026-03-01", "2025-06-30", "1", "00:00", "%Y", "%s", "%d.%m.%Y %H:%M", "tab", ";", "\\", "utf-16le", "x-user-defined", "UA", "US", "viber", "sms", "whatsapp", "invoice", "pricing-analytics", "excel", "account", "month"]


def cli_case(rng):
    log = rng.choice(LOGS)
    cmd = rng.choice(["replay", "compare", "breakeven", "advise", "explain", "generate", "reconcile"])
    opts = {
        "replay": ["--tz", "--account-country", "--max-record-bytes", "--as-of", "--threads", "--delimiter", "--encoding", "--timestamp-format", "--default-country", "--max-skipped", "--by", "--csv-dialect"],
        "compare": ["--tz", "--account-country", "--max-record-bytes", "--as-of", "--threads", "--delimiter", "--encoding", "--timestamp-format", "--default-country", "--max-skipped", "--channel", "--currency", "--fx-date", "--messages-per-session", "--date"],
        "breakeven": ["--tz", "--account-country", "--max-record-bytes", "--as-of", "--threads", "--delimiter", "--encoding", "--timestamp-format", "--default-country", "--max-skipped", "--channel", "--currency", "--fx-date", "--messages-per-session", "--date"],
        "advise": ["--tz", "--account-country", "--max-record-bytes", "--as-of", "--threads", "--delimiter", "--encoding", "--timestamp-format", "--default-country", "--max-skipped", "--top", "--late-within", "--unanswered"],
        "explain": ["--tz", "--account-country", "--max-record-bytes", "--as-of", "--threads", "--delimiter", "--encoding", "--timestamp-format", "--default-country", "--max-skipped", "--contact"],
        "generate": ["--days", "--messages", "--contacts", "--start", "--seed", "--profile"],
        "reconcile": ["--tz", "--account-country", "--max-record-bytes", "--as-of", "--threads", "--delimiter", "--encoding", "--timestamp-format", "--default-country", "--max-skipped", "--tolerance", "--bill-format"],
    }[cmd]
    if cmd == "generate":
        args = ["generate"]
    elif cmd == "reconcile":
        args = ["reconcile", FX + "/reconcile/log.csv", "--bill", FX + "/reconcile/invoice.csv", "--model", "whatsapp-meta"]
    else:
        args = [cmd, log, "--rates", FX + "/rates"]
        if cmd == "explain" and rng.random() < 0.5:
            args += ["--contact", "+380501110001"]
    for _ in range(rng.randrange(1, 3)):
        o = rng.choice(opts)
        if o == "--max-skipped":
            args.append("--skip-invalid")
        args += [o, rng.choice(CLI_VALUES)]
    if cmd == "generate":
        args += ["--messages", rng.choice(["10", "1000", "0", "1"])] if "--messages" not in args else []
    if cmd == "generate":
        args += ["-o", TMP + "/gen.csv"] if rng.random() < 0 else []
    return "cli", cmd, args, b""


PROFILES = [("sources/twilio.toml", "exports/b-twilio.csv"), ("sources/infobip.toml", "exports/b-infobip.csv"),
            ("sources/meta-webhook.toml", "exports/b-meta-webhook.jsonl"), ("sources/twilio.toml", "exports/b-twilio-whatsapp.csv")]


def profile_case(rng):
    prof, exp = rng.choice(PROFILES)
    data = mutate_toml(read(WT + "/" + prof), rng)
    p = f"{TMP}/prof.toml"
    open(p, "wb").write(data)
    cmd = rng.choice(["replay", "compare", "advise"])
    return "profile", prof, [cmd, FX + "/" + exp, "--source", p, "--rates", FX + "/rates"], data


KINDS = [log_case, accounts_case, bill_case, export_case, model_case, cli_case, profile_case]


def main():
    n = int(sys.argv[1]); seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    only = sys.argv[3].split(",") if len(sys.argv) > 3 else None
    rng = random.Random(seed)
    if not os.path.exists(MODELDIR):
        subprocess.run([BIN, "rates", "export", MODELDIR], check=True, capture_output=True)
    counts = collections.Counter(); codes = collections.Counter(); found = 0
    sigs = set()
    for i in range(n):
        gen = rng.choice(KINDS)
        if only and gen.__name__ not in only:
            continue
        kind, src, args, data = gen(rng)
        if kind == "cli" and args[0] == "generate":
            # generate writes to stdout; keep it small
            pass
        code, err = run(args)
        counts[kind.split(":")[0]] += 1; codes[code] += 1
        if code == 101 or "panicked" in err or code == "timeout" or (isinstance(code, int) and code < 0):
            found += 1
            sig = next((l for l in err.splitlines() if "panicked" in l), str(code))
            new = sig not in sigs
            sigs.add(sig)
            tag = f"{OUT}/{seed}_{i}"
            open(tag + ".data", "wb").write(data)
            if kind.startswith("model"):
                shutil.copytree(TMP + "/model", tag + ".model")
            open(tag + ".txt", "w").write(json.dumps({"kind": kind, "src": src, "args": args, "code": code}) + "\n" + err)
            if new:
                print("FOUND", tag, kind, src, args, code, sig[:300], flush=True)
    print("counts", dict(counts), "codes", dict(codes), "found", found, "distinct", len(sigs))


main()
