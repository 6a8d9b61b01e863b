#!/usr/bin/env bash
# Peak memory (max RSS) of `coinfer run` on paper.ron with the horizon at
# 60 s and at 600 s (10x). Metrics stream into running sums and histograms,
# so the two should be within a few percent. Usage: benches/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for horizon in 60 600; do
    sed "s/horizon_s: 60.0/horizon_s: ${horizon}.0/" scenarios/paper.ron > "$tmp/h$horizon.ron"
    /usr/bin/time -v target/release/coinfer run --quiet --threads 2 --seeds 4 \
        --out "$tmp/out$horizon" "$tmp/h$horizon.ron" 2> "$tmp/time$horizon.txt"
    rss=$(grep "Maximum resident set size" "$tmp/time$horizon.txt" | awk '{print $NF}')
    wall=$(grep "Elapsed (wall clock)" "$tmp/time$horizon.txt" | awk '{print $NF}')
    echo "horizon ${horizon} s: max RSS ${rss} KiB, wall ${wall}"
done
