#!/bin/sh
# Rewrites the golden outputs (tests/golden/) from the current code, then shows what changed.
# Commit the result only with the reason in the message: tests/golden/README.md.
set -e
cd "$(dirname "$0")/.."
SIMCOST_BLESS=1 cargo test --test integration golden
git status --short tests/golden
git diff --stat tests/golden
