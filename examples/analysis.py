"""Rebuild coinfer's miss-rate figure of `scenarios/paper.ron` from tidy.csv.

    cargo run --release -- run scenarios/paper.ron
    python3 examples/analysis.py results/paper/tidy.csv miss_rate.pdf

Needs pandas and matplotlib (`pip install pandas matplotlib`).
"""
import sys

import matplotlib.pyplot as plt
import pandas as pd

tidy = pd.read_csv(sys.argv[1] if len(sys.argv) > 1 else "results/paper/tidy.csv")
axis = "agents.mobility.Static.distance_m"
rows = tidy[tidy.metric == "miss_rate"]
fig, ax = plt.subplots(figsize=(3.5, 2.625))
for policy, g in rows.groupby("policy", sort=False):
    ax.errorbar(g[axis], g["mean"], yerr=g["ci95"], label=policy, capsize=2, marker="o", ms=3)
ax.set(xlabel="Distance (m)", ylabel="Deadline miss rate")
ax.legend(fontsize=6, ncol=2)
fig.tight_layout()
fig.savefig(sys.argv[2] if len(sys.argv) > 2 else "miss_rate.pdf")
