#!/usr/bin/env python3
"""A WhatsApp Cloud API webhook log (JSON Lines, one POST body a line, as `--source meta-webhook`
reads it) made from a `simcost generate` log, for benchmarks.

    simcost generate --messages 2000000 --contacts 200000 | scripts/make_webhook.py > log.jsonl

Each inbound row is a `messages[]` payload (one in 20 with an ad `referral`); each outbound row
is one business message whose statuses arrive as Meta sends them, each its own line and later
than the message: `sent` at the row's time, `delivered` 2 s later (one in 100 `failed`
instead, with `errors[]` and no `pricing`), `read` 60 s later for two in three. Payload shapes
follow https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
(`entry[].id` the WABA, `metadata.display_phone_number`, `statuses[]` with `conversation` and
`pricing`). Prints "messages lines" to standard error: the distinct messages written (a
business message with three statuses is one) and the lines.
"""
import heapq
import sys
from datetime import datetime

# kind of the generated log -> pricing.category ("" : no pricing object)
CATEGORY = {
    "text": "service",
    "": "service",
    "welcome": "referral_conversion",
    "promotional": "marketing",
    "template": "marketing",
    "transactional": "utility",
    "authentication": "authentication",
}
HEAD = '{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"%s","phone_number_id":"%s"},'
TAIL = '},"field":"messages"}]}]}\n'
MESSAGE = '"contacts":[{"profile":{"name":"Customer"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.IN%d","timestamp":"%d","type":"text","text":{"body":"Hello, I have a question about my order"}%s}]'
REFERRAL = ',"referral":{"source_url":"https://fb.me/example","source_id":"120000000000000","source_type":"ad","headline":"Spring sale","body":"Chat with us","media_type":"image","ctwa_clid":"ARAkLk"}'
STATUS = '"statuses":[{"id":"wamid.OUT%d","status":"%s","timestamp":"%d","recipient_id":"%s"%s}]'
PRICING = ',"conversation":{"id":"c%d","origin":{"type":"%s"}},"pricing":{"billable":%s,"pricing_model":"PMP","category":"%s","type":"%s"}'
ERRORS = ',"errors":[{"code":131026,"title":"Message undeliverable","message":"Message undeliverable","error_data":{"details":"Message Undeliverable."}}]'


def main():
    accounts = {}
    pending = []  # (time, sequence, line): statuses not yet arrived
    out = sys.stdout
    messages = lines = seq = 0
    rows = iter(sys.stdin)
    cols = next(rows).rstrip("\n").split(",")
    ts_i, contact_i, dir_i, kind_i = (cols.index(c) for c in ("timestamp", "contact", "direction", "kind"))
    acc_i = cols.index("account") if "account" in cols else None
    for row in rows:
        f = row.rstrip("\n").split(",")
        t = int(datetime.fromisoformat(f[ts_i].replace("Z", "+00:00")).timestamp())
        while pending and pending[0][0] <= t:
            out.write(heapq.heappop(pending)[2])
            lines += 1
        account = f[acc_i] if acc_i is not None else "main"
        if account not in accounts:
            k = len(accounts)
            accounts[account] = HEAD % (102290129340398 + k, 15550100100 + k, 106540352242922 + k)
        head = accounts[account]
        contact = f[contact_i].lstrip("+")
        messages += 1
        if f[dir_i] == "in":
            referral = REFERRAL if messages % 20 == 0 else ""
            out.write(head + MESSAGE % (contact, contact, messages, t, referral) + TAIL)
            lines += 1
            continue
        category = CATEGORY.get(f[kind_i], "marketing")
        free = category in ("service", "referral_conversion")
        pricing = PRICING % (messages, category, "false" if free else "true", category,
                             "free_customer_service" if free else "regular")
        out.write(head + STATUS % (messages, "sent", t, contact, pricing) + TAIL)
        lines += 1
        later = [(t + 2, "failed", ERRORS)] if messages % 100 == 0 else [(t + 2, "delivered", pricing)]
        if messages % 3 and messages % 100:
            later.append((t + 60, "read", pricing))
        for at, status, rest in later:
            seq += 1
            heapq.heappush(pending, (at, seq, head + STATUS % (messages, status, at, contact, rest) + TAIL))
    while pending:
        out.write(heapq.heappop(pending)[2])
        lines += 1
    print(messages, lines, file=sys.stderr)


if __name__ == "__main__":
    main()
