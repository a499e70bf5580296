#!/usr/bin/env python3
"""Writes samples/support.csv and samples/notifications.csv (fixed seed, so the files are stable).

support: customers write first; agents answer in sessions; a few proactive templates.
notifications: the business sends templates (order updates, promotions); a few customers reply.
Phone numbers are written in mixed formats on purpose; rows are in time order per day.
"""
import random
from datetime import datetime, timedelta

COUNTRIES = [  # (calling code, national number length, weight)
    ("380", 9, 30), ("49", 10, 15), ("48", 9, 12), ("40", 9, 10), ("359", 9, 8),
    ("36", 9, 6), ("420", 9, 5), ("381", 8, 5), ("1", 10, 4), ("39", 10, 5),
]


def number(rng):
    cc, n, _ = rng.choices(COUNTRIES, weights=[c[2] for c in COUNTRIES])[0]
    nat = str(rng.randint(10 ** (n - 1), 10 ** n - 1))
    if cc == "1":
        nat = rng.choice(["212", "415", "416", "809"]) + nat[3:]
    style = rng.randrange(4)
    if style == 0:
        return f"+{cc}{nat}"
    if style == 1:
        return f"00{cc}{nat}"
    if style == 2:
        return f"+{cc} {nat[:2]} {nat[2:5]} {nat[5:]}"
    return f"{cc}-{nat[:3]}-{nat[3:]}"


def fmt(t, rng):
    # mostly RFC 3339; some rows in the naive form, read as UTC
    return t.strftime("%Y-%m-%d %H:%M:%S") if rng.random() < 0.2 else t.strftime("%Y-%m-%dT%H:%M:%SZ")


def support(rng):
    rows = []
    contacts = [number(rng) for _ in range(40)]
    start = datetime(2026, 3, 1, 8, 0)
    for day in range(61):
        for _ in range(rng.randint(1, 3)):
            c = rng.choice(contacts)
            t = start + timedelta(days=day, minutes=rng.randint(0, 600))
            acct = rng.choice(["support", "support", "sales"])
            rows.append((t, c, "in", "", acct))
            if rng.random() < 0.5:
                rows.append((t + timedelta(seconds=2), c, "out", "welcome", acct))
            if rng.random() < 0.1:
                continue  # never answered
            for _ in range(rng.randint(1, 9)):
                t += timedelta(minutes=rng.randint(1, 40))
                rows.append((t, c, "out", rng.choice(["", "text", "reply"]), acct))
                if rng.random() < 0.4:
                    t += timedelta(minutes=rng.randint(1, 30))
                    rows.append((t, c, "in", "", acct))
        if rng.random() < 0.3:
            c = rng.choice(contacts)
            t = start + timedelta(days=day, hours=15)
            rows.append((t, c, "out", rng.choice(["transactional", "template", "utility"]), "support"))
    return rows


def notifications(rng):
    rows = []
    contacts = [number(rng) for _ in range(60)]
    start = datetime(2026, 4, 1, 9, 0)
    for day in range(45):
        for c in rng.sample(contacts, rng.randint(2, 6)):
            t = start + timedelta(days=day, minutes=rng.randint(0, 480))
            kind = rng.choices(["transactional", "promotional", "template", "authentication"], [5, 3, 1, 1])[0]
            rows.append((t, c, "out", kind, "shop"))
            if rng.random() < 0.25:
                t += timedelta(minutes=rng.randint(1, 120))
                rows.append((t, c, "in", "", "shop"))
                for _ in range(rng.randint(1, 3)):
                    t += timedelta(minutes=rng.randint(1, 20))
                    rows.append((t, c, "out", "reply", "shop"))
    return rows


for name, make in [("support", support), ("notifications", notifications)]:
    rng = random.Random(20260301 if name == "support" else 20260401)
    rows = sorted(make(rng), key=lambda r: r[0])
    with open(f"samples/{name}.csv", "w") as f:
        f.write("timestamp,contact,direction,kind,account\n")
        for t, c, d, k, a in rows:
            f.write(f"{fmt(t, rng)},{c},{d},{k},{a}\n")
