#!/usr/bin/env bash
# Speed and memory of `simcost replay` (every shipped model, one run) against the floor: a bare
# csv ByteRecord count of the same file (benches/floor.rs), on several log shapes made from one
# `simcost generate` log. Runs floor and simcost alternately RUNS times per shape and prints the
# median wall times, their ratio and the peak memory (GNU time's maximum resident set size).
#
#   scripts/bench.sh [MESSAGES...]        default: 1000000 3000000 10000000
#   RUNS=5 KEEP=1 SHAPES="generated no_account" scripts/bench.sh 10000000
#   LEDGER=1 scripts/bench.sh 10000000    also `replay --ledger` (written to BENCH_DIR): its
#                                         time, its ratio to the replay without it, its memory
#
# Shapes (scripts/bench_shapes.awk makes them from the generated log):
#   generated    as `simcost generate --profile mixed` writes it (three accounts)
#   one_account  the same rows, every account `main`
#   no_account   the same rows without the account column
#   accounts_50k the same rows, 50,000 accounts: each contact belongs to one of them
#   country_column the same rows with a country column
#   opaque_ids   the same rows, contacts as opaque ids with a country column
#   by_contact, newest_first, shuffled: the same rows out of time order
#   notifications `simcost generate --profile notifications`: business-initiated heavy
# The default is the first four; SHAPES=all runs every one.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1000000 3000000 10000000)
ALL="generated one_account no_account accounts_50k country_column opaque_ids by_contact newest_first shuffled notifications"
SHAPES=${SHAPES:-generated one_account no_account accounts_50k}
[ "$SHAPES" = all ] && SHAPES=$ALL
read -r -a SHAPE_LIST <<< "$SHAPES"
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/simcost-bench}
mkdir -p "$DIR"

cargo build --release --quiet
cargo bench --bench floor --no-run --quiet 2>/dev/null
FLOOR=$(ls -t target/release/deps/floor-* | grep -v '\.d$' | head -1)
SIMCOST=${SIMCOST:-target/release/simcost}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 1; }

# Prints "seconds kilobytes" of one run: wall time to the millisecond (GNU time's %e has only
# hundredths, too coarse at 1M), peak memory from GNU time.
measure() {
    local start end
    start=$(date +%s%N)
    "$TIME" -f "%M" -o "$DIR/time.txt" "$@" > /dev/null 2> "$DIR/stderr.txt"
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000000 )) $(cat "$DIR/time.txt")" | awk '{printf "%.3f %d\n", $1 / 1000, $2}'
}

# Writes shape $1 of the generated log $2 ($3 messages) to standard output.
make_shape() {
    case "$1" in
        # the same rows out of time order: grouped by contact (a stable sort), newest first, shuffled
        by_contact) { head -n 1 "$2"; tail -n +2 "$2" | sort -s -t, -k2,2; } ;;
        newest_first) { head -n 1 "$2"; tail -n +2 "$2" | tac; } ;;
        shuffled) { head -n 1 "$2"; tail -n +2 "$2" | shuf --random-source=<(yes); } ;;
        # another profile of the generator: business-initiated heavy (campaigns)
        notifications) "$SIMCOST" generate --messages "$3" --contacts $(($3 / 10)) --days 30 --seed 1 --profile notifications ;;
        *) awk -F, -v OFS=, -v shape="$1" -f scripts/bench_shapes.awk "$2" ;;
    esac
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf "%-13s %10s %10s %10s %8s %10s %11s" shape messages floor_s simcost_s ratio floor_MB simcost_MB
[ -n "${LEDGER:-}" ] && printf " %9s %8s %10s" ledger_s x_replay ledger_MB
echo
for n in "${SIZES[@]}"; do
    base="$DIR/log-$n.csv"
    if [ ! -f "$base" ]; then
        "$SIMCOST" generate --messages "$n" --contacts $((n / 10)) --days 30 --seed 1 --profile mixed > "$base"
    fi
    for shape in "${SHAPE_LIST[@]}"; do
        log="$DIR/log-$n-$shape.csv"
        if [ "$shape" = generated ]; then
            log=$base
        elif [ ! -f "$log" ]; then
            make_shape "$shape" "$base" "$n" > "$log"
        fi
        : > "$DIR/floor.txt"; : > "$DIR/sim.txt"; : > "$DIR/ledger.txt"
        for _ in $(seq "$RUNS"); do
            measure "$FLOOR" "$log" >> "$DIR/floor.txt"
            measure "$SIMCOST" replay "$log" >> "$DIR/sim.txt"
            if [ -n "${LEDGER:-}" ]; then
                measure "$SIMCOST" replay "$log" --ledger "$DIR/ledger.csv" >> "$DIR/ledger.txt"
                rm -f "$DIR/ledger.csv"
            fi
        done
        f=$(cut -d' ' -f1 "$DIR/floor.txt" | median)
        s=$(cut -d' ' -f1 "$DIR/sim.txt" | median)
        fm=$(cut -d' ' -f2 "$DIR/floor.txt" | sort -n | tail -1)
        sm=$(cut -d' ' -f2 "$DIR/sim.txt" | sort -n | tail -1)
        awk -v shape="$shape" -v n="$n" -v f="$f" -v s="$s" -v fm="$fm" -v sm="$sm" \
            'BEGIN {printf "%-13s %10d %10.3f %10.3f %8.2f %10.0f %11.0f", shape, n, f, s, s / f, fm / 1024, sm / 1024}'
        if [ -n "${LEDGER:-}" ]; then
            l=$(cut -d' ' -f1 "$DIR/ledger.txt" | median)
            lm=$(cut -d' ' -f2 "$DIR/ledger.txt" | sort -n | tail -1)
            awk -v l="$l" -v s="$s" -v lm="$lm" 'BEGIN {printf " %9.3f %8.2f %10.0f", l, l / s, lm / 1024}'
        fi
        echo
        [ -n "${KEEP:-}" ] || [ "$log" = "$base" ] || rm -f "$log"
    done
    [ -n "${KEEP:-}" ] || rm -f "$base"
done
