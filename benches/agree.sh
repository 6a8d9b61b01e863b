#!/usr/bin/env bash
# Correctness check of the peers: the reference model's latency statistics
# (mean, p50, p99) from coinfer and each peer over SEEDS seeds at HORIZON s;
# prints each one's mean ± sd over seeds. They should agree within the spread.
# Usage: benches/agree.sh [SEEDS] [HORIZON_S]   (defaults 10 and 400)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-10}
horizon=${2:-400}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet
(cd benches/peers/bare_rust && cargo build --release --quiet)
(cd benches/peers/nexosim && cargo build --release --quiet)
for s in $(seq 1 "$seeds"); do
    sed -e "s/horizon_s: 4000.0/horizon_s: $horizon/" -e "s/base_seed: 1,/base_seed: $s,/" \
        benches/reference.ron >"$tmp/ref.ron"
    target/release/coinfer run "$tmp/ref.ron" --out "$tmp/out$s" --plots none --threads 1 --quiet
    python3 - "$tmp/out$s/summary.csv" <<'PY' >>"$tmp/all"
import csv, sys
r = next(csv.DictReader(open(sys.argv[1])))
print(f"peer=coinfer requests={r['completed']} mean_s={r['latency_mean_s']} p50_s={r['latency_p50_s']} p99_s={r['latency_p99_s']}")
PY
    benches/peers/bare_rust/target/release/bare_rust "$horizon" "$s" >>"$tmp/all"
    benches/peers/nexosim/target/release/nexosim_peer "$horizon" "$s" >>"$tmp/all"
    python3 benches/peers/heapq_loop.py "$horizon" "$s" >>"$tmp/all"
    python3 benches/peers/simpy_model.py "$horizon" "$s" >>"$tmp/all"
done
python3 - "$tmp/all" <<'PY'
import statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(f.split("=") for f in line.split())
    rows.setdefault(kv["peer"], []).append(kv)
print(f"{'peer':10} {'seeds':>5} {'requests':>10} {'mean_s':>17} {'p50_s':>17} {'p99_s':>17}")
for peer, rs in rows.items():
    cell = lambda k: f"{st.mean(float(r[k]) for r in rs):.4f}±{st.stdev(float(r[k]) for r in rs):.4f}"
    req = st.mean(float(r["requests"]) for r in rs)
    print(f"{peer:10} {len(rs):>5} {req:>10.0f} {cell('mean_s'):>17} {cell('p50_s'):>17} {cell('p99_s'):>17}")
PY
