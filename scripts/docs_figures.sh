#!/usr/bin/env bash
# Regenerates the README's figures in docs/ from scenarios/paper.ron.
# The results are deterministic, so an unchanged model gives identical files.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/docs-paper
cargo run --release --quiet -- run scenarios/paper.ron --out "$out" --plots png,svg --quiet --force
for f in miss_rate_vs_distance_m latency_cdf_distance_m=150.0; do
    cp "$out/plots/$f.png" "docs/$f.png"
done
echo "updated: $(ls docs/*.png | tr '\n' ' ')"
