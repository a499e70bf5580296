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
# country_column: a country column beside the number; opaque_ids: the contact an opaque id (the
# number's digits behind a prefix) with its country. The country comes from the calling codes that
# `simcost generate` uses (src/generate.rs COUNTRIES).
function country(num,    d) {
    d = num; gsub(/[^0-9]/, "", d); sub(/^00/, "", d)
    if (d ~ /^380/) return "UA"; if (d ~ /^381/) return "RS"; if (d ~ /^359/) return "BG"
    if (d ~ /^420/) return "CZ"; if (d ~ /^971/) return "AE"; if (d ~ /^1809/) return "DO"
    if (d ~ /^1/) return "US"; if (d ~ /^7/) return "KZ"; if (d ~ /^49/) return "DE"
    if (d ~ /^48/) return "PL"; if (d ~ /^40/) return "RO"; if (d ~ /^36/) return "HU"
    if (d ~ /^39/) return "IT"; if (d ~ /^44/) return "GB"; if (d ~ /^91/) return "IN"
    if (d ~ /^55/) return "BR"
    print "bench_shapes.awk: no country for " num > "/dev/stderr"; exit 1
}
shape == "country_column" { print $0 "," (NR == 1 ? "country" : country($2)); next }
shape == "opaque_ids" {
    if (NR == 1) { print $0 ",country"; next }
    c = country($2); d = $2; gsub(/[^0-9]/, "", d); sub(/^00/, "", d); $2 = "cust-" d
    print $0 "," c; next
}
{ print "bench_shapes.awk: unknown shape " shape > "/dev/stderr"; exit 1 }
