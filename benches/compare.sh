#!/usr/bin/env bash
# coinfer against its peers on the reference model (benches/reference.ron):
# ROUNDS alternating rounds (coinfer, bare_rust, nexosim, heapq, simpy in
# turn), each run timed by /usr/bin/time -v; then, when valgrind is present,
# one run of each under callgrind at CG_HORIZON s for instructions per request.
# Prints per peer: median wall time, requests/s, peak RSS, instructions per
# request (marginal: between runs at CG_HORIZON and twice it) and fixed
# instructions (start-up), and coinfer's requests/s relative to the peer's;
# then coinfer's start-up CPU time (a run at a 1 ms horizon).
# COINFER names another coinfer binary (default: this tree's release build).
# Usage: ROUNDS=3 HORIZON=4000 CG_HORIZON=100 SEED=1 benches/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
horizon=${HORIZON:-4000}
cg_horizon=${CG_HORIZON:-100}
seed=${SEED:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "${KEEP:-}" ] && trap - EXIT && echo "tmp: $tmp"
[ -n "${COINFER:-}" ] || cargo build --release --quiet
coinfer=${COINFER:-target/release/coinfer}
(cd benches/peers/bare_rust && cargo build --release --quiet)
(cd benches/peers/nexosim && cargo build --release --quiet)
peers=(coinfer bare_rust nexosim heapq simpy)
python=$(python3 -c "import sys; print(sys.executable)")  # not a shim: callgrind follows it

# The command line of a peer at horizon $2.
command_of() {
    case $1 in
        coinfer)
            sed -e "s/horizon_s: 4000.0/horizon_s: $2/" -e "s/base_seed: 1,/base_seed: $seed,/" \
                benches/reference.ron >"$tmp/ref_$2.ron"
            echo "$coinfer run $tmp/ref_$2.ron --out $tmp/out_$RANDOM$RANDOM --plots none --threads 1 --quiet" ;;
        bare_rust) echo "benches/peers/bare_rust/target/release/bare_rust $2 $seed" ;;
        nexosim) echo "benches/peers/nexosim/target/release/nexosim_peer $2 $seed" ;;
        heapq) echo "$python benches/peers/heapq_loop.py $2 $seed" ;;
        simpy) echo "$python benches/peers/simpy_model.py $2 $seed" ;;
    esac
}

# Requests completed by the last run of a peer (from its output or summary.csv).
requests_of() {
    if [ "$1" = coinfer ]; then
        python3 -c "import csv,sys; print(next(csv.DictReader(open(sys.argv[1])))['completed'])" \
            "$(ls -dt "$tmp"/out_* | head -1)/summary.csv"
    else
        sed -n 's/.*requests=\([0-9]*\).*/\1/p' "$tmp/stdout"
    fi
}

for r in $(seq 1 "$rounds"); do
    for p in "${peers[@]}"; do
        cmd=$(command_of "$p" "$horizon")
        /usr/bin/time -v $cmd >"$tmp/stdout" 2>"$tmp/time"
        wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time" |
            awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
        echo "$p $wall $rss $(requests_of "$p")" >>"$tmp/runs"
    done
done
if command -v valgrind >/dev/null; then
    for p in "${peers[@]}"; do
        for h in "$cg_horizon" "$((2 * cg_horizon))"; do
            cmd=$(command_of "$p" "$h")
            valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd >"$tmp/stdout" 2>"$tmp/cg"
            ir=$(sed -n "s/.*Collected : //p" "$tmp/cg" | tail -1)
            echo "$p $ir $(requests_of "$p")" >>"$tmp/cg_runs"
        done
    done
fi
cmd=$(command_of coinfer 0.001)
/usr/bin/time -f "%U %S" -o "$tmp/startup" $cmd
touch "$tmp/cg_runs"
echo "date: $(date -u +%F), machine: $(nproc) CPUs, $(sed -n 's/model name\s*: //p' /proc/cpuinfo | head -1)"
echo "reference model, seed $seed, horizon $horizon s, median of $rounds alternating runs; callgrind at $cg_horizon s"
python3 - "$tmp/runs" "$tmp/cg_runs" <<'PY'
import statistics as st, sys
runs, cg = {}, {}
for line in open(sys.argv[1]):
    p, wall, rss, req = line.split()
    runs.setdefault(p, []).append((float(wall), int(rss), int(req)))
for line in open(sys.argv[2]):
    p, ir, req = line.split()
    cg.setdefault(p, []).append((int(ir.replace(",", "")), int(req)))
fixed = {}
for p, ((ir1, r1), (ir2, r2)) in cg.items():
    cg[p] = (ir2 - ir1) / (r2 - r1)
    fixed[p] = ir1 - cg[p] * r1
rate = {p: st.median(r[2] / max(r[0], 0.01) for r in rs) for p, rs in runs.items()}
print("| peer | requests | wall s | requests/s | peak RSS MB | instr/request | fixed Minstr | coinfer speed-up |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for p, rs in runs.items():
    ipr = f"{cg[p]:,.0f} | {fixed[p] / 1e6:,.0f}" if p in cg else "- | -"
    print(f"| {p} | {rs[0][2]} | {st.median(r[0] for r in rs):.2f} | {rate[p]:,.0f} | "
          f"{max(r[1] for r in rs) / 1024:.1f} | {ipr} | {rate['coinfer'] / rate[p]:.2f}x |")
PY
echo "coinfer start-up CPU (1 ms horizon): $(awk '{ printf "%.0f ms", ($1 + $2) * 1000 }' "$tmp/startup")"
