//! `coinfer solve SCENARIO`: the paper's one-shot static problem at one
//! channel (default: the scenario's mean channel, no fading), with each
//! policy's decision, stage times and energies, distortions and feasibility.

use crate::policy::{predict, problem, DecisionContext, Options, Registry};
use crate::rng::{stream, Purpose, StreamId};
use crate::study::Study;
use crate::units::BitsPerSec;
use anyhow::Result;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `coinfer solve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (RON).
    scenario: PathBuf,
    /// Solve at this agent distance instead of the mean one, m.
    #[arg(long, conflicts_with = "snr_db")]
    distance_m: Option<f64>,
    /// Solve at this SNR instead of the mean channel's, dB (may be negative).
    #[arg(long, allow_negative_numbers = true)]
    snr_db: Option<f64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// The sweep point to solve at (its index in `summary.csv` order).
    #[arg(long, default_value_t = 0)]
    point: usize,
}

pub(super) fn run(args: Args, registry: &Registry) -> Result<()> {
    let study = Study::load(&args.scenario, registry)?;
    let n = study.points.len();
    anyhow::ensure!(
        args.point < n,
        "--point {}: the study has {n} sweep points (0..{n})",
        args.point
    );
    let point = &study.points[args.point];
    let (sc, system) = (&point.config, &point.system);
    let at: Vec<String> = point.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let snr = match (args.snr_db, args.distance_m) {
        (Some(db), _) => {
            anyhow::ensure!(db.is_finite(), "--snr-db must be a finite number of dB");
            10f64.powf(db / 10.0)
        }
        (None, Some(d)) => {
            anyhow::ensure!(d.is_finite() && d > 0.0, "--distance-m must be a positive number");
            sc.channel.mean_snr(d, 0.0)
        }
        (None, None) => sc
            .channel
            .mean_snr(sc.agents.shared().mobility.mean_distance_m(sc.horizon_s), 0.0),
    };
    let rate: BitsPerSec = sc.channel.rate(snr);
    let ctx = DecisionContext::one_shot(system, snr);
    let p = problem(&ctx, &Options::default(), 0.0);
    let mut rows = Vec::new();
    for lp in &study.policies {
        let (label, factory) = (&lp.label, &lp.factory);
        let mut policy = factory.build(stream(sc.base_seed, StreamId::new(Purpose::Policy, 0)));
        let d = policy.decide(&ctx);
        let e = predict(&ctx, &d);
        rows.push(json!({
            "policy": label,
            "bits_agent": d.bits_agent,
            "bits_server": d.bits_server,
            "freq_agent_ghz": system.agent_cpu.clamp(d.freq_agent).ghz(),
            "freq_server_ghz": system.server_cpu.clamp(d.freq_server).ghz(),
            "time_agent_s": e.agent_time_s,
            "time_tx_s": p.tx_time_s,
            "time_server_s": e.server_time_s,
            "time_total_s": e.total_time_s,
            "energy_agent_compute_j": e.agent_energy_j - p.tx_energy_j,
            "energy_tx_j": p.tx_energy_j,
            "energy_server_j": e.server_energy_j,
            "distortion_upper": system.upper.pair(d.bits_agent, d.bits_server),
            "distortion_lower": system.lower.pair(d.bits_agent, d.bits_server),
            "distortion_approx": system.approx.pair(d.bits_agent, d.bits_server),
            "feasible": d.feasible,
            "meets_deadline": e.meets_deadline,
            "meets_budget": e.meets_budget,
            "rounding_broke_budget": d.rounding_broke_budget,
        }));
    }
    if args.json {
        let doc = json!({
            "scenario": sc.name,
            "point": args.point,
            "params": point.params.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "snr_db": 10.0 * snr.log10(),
            "rate_bps": rate.0,
            "deadline_s": point.deadline_s(),
            "energy_budget_j": system.energy_budget.0,
            "policies": rows,
        });
        writeln!(
            std::io::stdout().lock(),
            "{}",
            serde_json::to_string_pretty(&doc)?
        )?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    if n > 1 {
        writeln!(
            out,
            "sweep point {} of {n} ({}); choose another with --point",
            args.point,
            at.join(", ")
        )?;
    }
    let deadline = point
        .deadline_s()
        .map_or("none".to_string(), |d| format!("{d} s"));
    writeln!(
        out,
        "{}: SNR {:.1} dB, rate {:.2} Mbit/s, deadline {deadline}, agent budget {} J",
        sc.name,
        10.0 * snr.log10(),
        rate.0 / 1e6,
        system.energy_budget.0
    )?;
    writeln!(
        out,
        "{:<18} {:>3} {:>3} {:>6} {:>6} | {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} | {:>9} {:>9} | ok",
        "policy", "b_a", "b_s", "f_a", "f_s", "T_a", "T_tx", "T_s", "T", "E_a", "E_tx", "E_s", "D_U", "D_L"
    )?;
    for r in &rows {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        let ok = match (r["feasible"].as_bool(), r["rounding_broke_budget"].as_bool()) {
            (_, Some(true)) => "rounding broke budget",
            (Some(true), _) => "yes",
            _ => "infeasible",
        };
        writeln!(
            out,
            "{:<18} {:>3} {:>3} {:>6.2} {:>6.2} | {:>7.4} {:>7.4} {:>7.4} {:>7.4} | {:>7.3} {:>7.4} {:>7.3} | {:>9.3e} {:>9.3e} | {ok}",
            r["policy"].as_str().unwrap_or(""),
            r["bits_agent"].as_u64().unwrap_or(0),
            r["bits_server"].as_u64().unwrap_or(0),
            f("freq_agent_ghz"),
            f("freq_server_ghz"),
            f("time_agent_s"),
            f("time_tx_s"),
            f("time_server_s"),
            f("time_total_s"),
            f("energy_agent_compute_j"),
            f("energy_tx_j"),
            f("energy_server_j"),
            f("distortion_upper"),
            f("distortion_lower"),
        )?;
    }
    writeln!(
        out,
        "(times in s, frequencies in GHz, energies in J; T excludes server queueing)"
    )?;
    Ok(())
}
