# Makes one bench shape from a `simcost generate` log (columns timestamp,contact,direction,kind,
# account): run with -F, -v OFS=, -v shape=NAME. See scripts/bench.sh.
NR == 1 {
    for (i = 1; i <= NF; i++) if ($i == "account") acc = i
    if (!acc) { print "bench_shapes.awk: no account column" > "/dev/stderr"; exit 1 }
}
shape == "one_account" { if (NR > 1) $acc = "main"; print; next }
shape == "no_account" { NF = acc - 1; print; next }
shape == "accounts_50k" {
    if (NR > 1) {
        # A contact's account from its digits, so that each contact stays with one account.
        d = $2; gsub(/[^0-9]/, "", d)
        $acc = sprintf("acct%05d", substr(d, length(d) - 8) % 50000)
    }
    print; next
}
{ print "bench_shapes.awk: unknown shape " shape > "/dev/stderr"; exit 1 }
