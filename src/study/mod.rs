//! A compiled study: a scenario resolved, validated and prepared once, so
//! everything downstream (runner, merge, solve, reports) relies on it and
//! never re-checks.
//!
//! [`Study::compile`] takes a [`RawScenario`] (the file as written), fills in
//! every default (model blocks or the profile file, the CPU presets), checks
//! cross-field rules, builds the labelled policy factories, the [`SeedPlan`]
//! and each sweep point's static [`System`]. Errors name the file, line,
//! column and field.
//!
//! ```
//! use coinfer::{policy::Registry, study::Study};
//! let study = Study::from_str("doc.ron".as_ref(), "(seeds: 3)", &Registry::default()).unwrap();
//! assert_eq!(study.points.len(), 1);
//! assert_eq!(study.policies[0].label, "fixed_8_8");
//! ```

mod estimate;
mod figures;
mod seeds;

pub use estimate::{Estimate, Limits};
pub use figures::check_figure;
pub use seeds::SeedPlan;

use crate::metrics::{METRICS, SCHEMA};
use crate::model::agent::{Agents, Arrivals};
use crate::model::cpu::CpuConfig;
use crate::model::distortion::DistortionTable;
use crate::model::laim::Laim;
use crate::model::link::{Access, Fading, LinkMode};
use crate::model::server::Batching;
use crate::model::{reference_table, synthetic_table, System, World};
use crate::policy::Objective;
use crate::policy::{PolicyFactory, Registry};
use crate::quant::Checkpoint;
use crate::scenario::{
    blip2_blocks, did_you_mean, parse_ron, sweep, ProfileFile, RawScenario, ScenarioError,
};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// A policy of the study: its label in result files and its factory.
#[derive(Debug)]
pub struct LabelledPolicy {
    /// Label (unique within the study).
    pub label: String,
    /// Builds the per-run policy.
    pub factory: Box<dyn PolicyFactory>,
}

/// One sweep point: its parameter values, its resolved configuration and
/// its static system.
#[derive(Debug)]
pub struct StudyPoint {
    /// `(param, value)` in axis order, values as written in result files.
    pub params: Vec<(String, String)>,
    /// The resolved scenario at this point (no sweep).
    pub config: RawScenario,
    /// What every run at this point shares.
    pub system: System,
    /// The measured-distortion table on the real tensors of
    /// `model.weights_file`, if the model has one.
    pub checkpoint_table: Option<DistortionTable>,
    /// The index of the first point with the same model and quantizer:
    /// points with the same id have the same distortion tables.
    pub model_id: usize,
}

/// A validated study, ready to run.
#[derive(Debug)]
pub struct Study {
    /// Name; the default output folder is `results/<name>`.
    pub name: String,
    /// Seeds per (point, policy).
    pub seeds: SeedPlan,
    /// Run `i` uses seed `base_seed + i`.
    pub base_seed: u64,
    /// Policies in scenario order.
    pub policies: Vec<LabelledPolicy>,
    /// Index of the policy the others are compared with in `paired.csv`.
    pub reference: usize,
    /// Sweep points in sweep order (one without a sweep).
    pub points: Vec<StudyPoint>,
    /// The resolved scenario.
    resolved: RawScenario,
}

impl Study {
    /// Reads, parses and compiles a scenario file.
    pub fn load(path: &Path, registry: &Registry) -> Result<Study, ScenarioError> {
        Study::compile(RawScenario::load(path)?, registry)
    }

    /// Parses and compiles scenario text; `path` names it in errors and
    /// anchors relative profile paths.
    pub fn from_str(path: &Path, text: &str, registry: &Registry) -> Result<Study, ScenarioError> {
        Study::compile(RawScenario::parse(path, text)?, registry)
    }

    /// Resolves, validates and compiles a parsed scenario.
    pub fn compile(raw: RawScenario, registry: &Registry) -> Result<Study, ScenarioError> {
        check_name(&raw)?;
        let resolved = resolve(raw)?;
        let policies = policies(&resolved, registry)?;
        let reference = reference(&resolved, &policies)?;
        let seeds = seed_plan(&resolved)?;
        check_figures(&resolved)?;
        check_last_seed(&resolved, &seeds)?;
        let points = sweep::points(&resolved).map_err(|(f, m)| resolved.error_at(&f, m))?;
        let ids = model_ids(&points.iter().map(|p| &p.scenario).collect::<Vec<_>>());
        let tables = reference_tables(&points, &ids);
        let points = points
            .into_par_iter()
            .zip(tables)
            .zip(ids)
            .map(|((p, approx), id)| compile_point(&resolved, p, &policies, (approx, id)))
            .collect::<Result<Vec<_>, _>>()?;
        let points = checkpoint_tables(points).map_err(|e| {
            let field = if resolved.model.profile.is_some() {
                "model.profile"
            } else {
                "model.weights_file"
            };
            resolved.error_at(field, format!("measuring the quantizer on the real weights: {e}"))
        })?;
        Ok(Study {
            name: resolved.name.clone(),
            seeds,
            base_seed: resolved.base_seed,
            policies,
            reference,
            points,
            resolved,
        })
    }

    /// The resolved scenario (every default filled in).
    pub fn scenario(&self) -> &RawScenario {
        &self.resolved
    }

    /// The resolved scenario as RON, as written to `scenario.ron`.
    pub fn to_ron(&self) -> String {
        self.resolved.to_ron()
    }

    /// Hash of the resolved scenario (names the study in shards and
    /// provenance); how the results are drawn is not part of it.
    pub fn hash(&self) -> String {
        crate::fsio::hash_hex(&self.resolved.simulated().to_ron())
    }

    /// Policy labels in scenario order.
    pub fn labels(&self) -> Vec<String> {
        self.policies.iter().map(|p| p.label.clone()).collect()
    }

    /// The default output folder, `results/<name>`.
    pub fn default_out_dir(&self) -> PathBuf {
        PathBuf::from("results").join(&self.name)
    }
}

impl StudyPoint {
    /// The initial state of the run with seed `seed`.
    pub fn world(&self, seed: u64) -> World<'_> {
        let c = &self.config;
        World::new(
            &self.system,
            &c.agents,
            &c.channel,
            &c.server,
            c.horizon_s,
            c.warmup_s,
            seed,
        )
    }

    /// Deadline of a request after its creation, s (`None`: no deadline).
    pub fn deadline_s(&self) -> Option<f64> {
        self.config.agents.shared().deadline_s
    }

    /// Length of the measured window (`horizon_s − warmup_s`), s.
    pub fn window_s(&self) -> f64 {
        self.config.horizon_s - self.config.warmup_s
    }

    /// Expected number of requests per run (all agents, whole horizon).
    pub fn expected_requests(&self) -> f64 {
        self.config.agents.rate_hz() * self.config.horizon_s
    }

    /// The measured-distortion table of `seed`: the quantizer on the real
    /// tensors of `model.weights_file` (the same for every seed), or on
    /// synthetic weights drawn from the seed's `Weights` streams.
    pub fn measured_table(&self, seed: u64) -> DistortionTable {
        match &self.checkpoint_table {
            Some(table) => table.clone(),
            None => synthetic_table(&self.system.laim, &self.config.quantizer, seed),
        }
    }
}

/// Largest relative cost of a further request in a server batch.
const MAX_BATCH_BETA: f64 = 100.0;

/// Largest Nakagami shape: the correlated process draws about `m·|ln rho²|`
/// numbers per block, and beyond it the gain hardly varies.
const MAX_NAKAGAMI_M: f64 = 1000.0;

/// Each group's arrivals and mobility; the settings groups share must agree.
fn check_groups(agents: &Agents) -> Result<(), (String, String)> {
    let groups = &agents.0;
    let at = |k: usize, f: &str| match groups.len() {
        1 => format!("agents.{f}"),
        _ => format!("agents[{k}].{f}"),
    };
    for (k, g) in groups.iter().enumerate() {
        if let Arrivals::Periodic {
            period_s,
            jitter_s,
            phase_s,
        } = g.arrivals
        {
            if jitter_s >= period_s {
                let msg = format!("invalid value {jitter_s}: expected a jitter below period_s = {period_s}");
                return Err((at(k, "arrivals.jitter_s"), msg));
            }
            if phase_s.is_some_and(|p| p >= period_s) {
                let msg = format!("invalid value {phase_s:?}: expected a phase below period_s = {period_s}");
                return Err((at(k, "arrivals.phase_s"), msg));
            }
        }
        g.mobility
            .check()
            .map_err(|(f, m)| (at(k, &format!("mobility.{f}")), m))?;
        let first = agents.shared();
        let differs = [
            ("deadline_s", g.deadline_s != first.deadline_s),
            ("energy_budget_j", g.energy_budget_j != first.energy_budget_j),
            ("max_queue", g.max_queue != first.max_queue),
            ("cpu", g.cpu != first.cpu),
        ];
        if let Some((f, _)) = differs.iter().find(|d| d.1) {
            let msg = format!("groups of agents share `{f}`: give every group the first group's value (groups may differ in count, arrivals and mobility)");
            return Err((at(k, f), msg));
        }
    }
    if agents.count() == 0 {
        return Err((
            "agents".into(),
            "no agents: expected a count of at least 1".into(),
        ));
    }
    Ok(())
}

/// Every figure spec names metrics and swept parameters of this study.
fn check_figures(raw: &RawScenario) -> Result<(), ScenarioError> {
    let axes: Vec<String> = raw.sweep.iter().map(|a| a.param.clone()).collect();
    let categorical: Vec<String> = raw
        .sweep
        .iter()
        .filter(|a| {
            a.values
                .iter()
                .any(|v| sweep::value_text(v).parse::<f64>().is_err())
        })
        .map(|a| a.param.clone())
        .collect();
    for (i, spec) in raw.figures.iter().enumerate() {
        check_figure(spec, &axes, &categorical)
            .map_err(|(f, m)| raw.error_at(&format!("figures[{i}].{f}"), m))?;
    }
    Ok(())
}

/// Whether `n` can name a folder or file: 1 to 128 letters, digits, `-`,
/// `_`, `.`, `+` or `=`, not starting with `.`.
fn is_plain_name(n: &str) -> bool {
    let plain = n
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '='));
    !n.is_empty() && n.len() <= 128 && !n.starts_with('.') && plain
}

/// The name becomes a folder under `results/`: it must be one plain folder name.
fn check_name(raw: &RawScenario) -> Result<(), ScenarioError> {
    let n = &raw.name;
    if !is_plain_name(n) {
        return Err(raw.error_at(
            "name",
            format!("invalid name {n:?}: expected a folder name of 1 to 128 letters, digits, `-`, `_`, `.`, `+` or `=`, not starting with `.`"),
        ));
    }
    Ok(())
}

/// Fills in what the file leaves out: the model's blocks (inline, from the
/// profile file, or the default BLIP-2-like model) and the CPU presets.
fn resolve(mut raw: RawScenario) -> Result<RawScenario, ScenarioError> {
    if let Some(profile) = raw.model.profile.take() {
        if raw.model.blocks.is_some() {
            let msg = "give either `blocks` or `profile`, not both".into();
            return Err(raw.error_at("model.profile", msg));
        }
        let ppath = raw.base_dir().join(&profile);
        let ptext = std::fs::read_to_string(&ppath).map_err(|e| {
            raw.error_at(
                "model.profile",
                format!("cannot read profile {}: {e}", ppath.display()),
            )
        })?;
        let file: ProfileFile = parse_ron(&ppath, &ptext)?;
        raw.model.blocks = Some(file.blocks);
        if let Some(source) = file.source {
            let dir = ppath.parent().unwrap_or(Path::new("."));
            raw.model.weights_file = Some(dir.join(source).display().to_string());
            raw.model.group_depth = file.group_depth.unwrap_or(1);
            raw.model.quantize = file.quantize;
        }
        if raw.model.combine.is_none() {
            raw.model.combine = file.combine;
        }
    }
    raw.model.blocks.get_or_insert_with(blip2_blocks);
    raw.model.combine.get_or_insert_default();
    if raw.ci_rel.is_some() && raw.ci_metrics.is_none() {
        raw.ci_metrics = Some(default_ci_metrics(&raw.policies));
    }
    for g in &mut raw.agents.0 {
        g.cpu = g.cpu.resolved(&CpuConfig::agent_preset());
    }
    raw.server.cpu = raw.server.cpu.resolved(&CpuConfig::server_preset());
    Ok(raw)
}

/// The labelled policy factories, in scenario order.
fn policies(raw: &RawScenario, registry: &Registry) -> Result<Vec<LabelledPolicy>, ScenarioError> {
    if raw.policies.is_empty() {
        let names = registry.names().join(", ");
        return Err(raw.error_at(
            "policies",
            format!("no policy given: expected at least one of {names}"),
        ));
    }
    let mut out: Vec<LabelledPolicy> = Vec::new();
    for (i, spec) in raw.policies.iter().enumerate() {
        let (label, factory) = registry
            .build(spec)
            .map_err(|(f, m)| raw.error_at(&format!("policies[{i}].{f}"), m))?;
        if out.iter().any(|p| p.label == label) {
            let msg = format!("duplicate policy label \"{label}\": give each policy a distinct `label`");
            return Err(raw.error_at(&format!("policies[{i}].label"), msg));
        }
        out.push(LabelledPolicy { label, factory });
    }
    Ok(out)
}

fn reference(raw: &RawScenario, policies: &[LabelledPolicy]) -> Result<usize, ScenarioError> {
    let Some(r) = &raw.reference else { return Ok(0) };
    policies.iter().position(|p| &p.label == r).ok_or_else(|| {
        let labels: Vec<&str> = policies.iter().map(|p| p.label.as_str()).collect();
        let msg = format!(
            "unknown policy label \"{r}\": expected one of {}",
            labels.join(", ")
        );
        raw.error_at("reference", msg)
    })
}

fn seed_plan(raw: &RawScenario) -> Result<SeedPlan, ScenarioError> {
    let seeds = raw.seeds;
    let Some(ci_rel) = raw.ci_rel else {
        let set = [
            ("max_seeds", raw.max_seeds.is_some()),
            ("ci_metrics", raw.ci_metrics.is_some()),
            ("ci_abs", raw.ci_abs.is_some()),
        ];
        return match set.iter().find(|f| f.1) {
            Some((f, _)) => Err(raw.error_at(
                f,
                format!("{f} tunes the seeds added by ci_rel: expected ci_rel to be set too"),
            )),
            None => Ok(SeedPlan::Fixed { seeds }),
        };
    };
    if let Some(m) = raw.max_seeds.filter(|&m| m < seeds) {
        return Err(raw.error_at(
            "max_seeds",
            format!("invalid value {m}: expected max_seeds >= seeds = {seeds}"),
        ));
    }
    let metrics = raw.ci_metrics.clone().unwrap_or_default();
    check_ci_metrics(raw, &metrics)?;
    Ok(SeedPlan::Adaptive {
        batch: seeds,
        ci_rel,
        ci_abs: raw.ci_abs.unwrap_or(0.0),
        metrics,
        max_seeds: raw.max_seeds.unwrap_or(seeds.saturating_mul(10)),
    })
}

/// The default `ci_metrics`: the mean latency, the agent energy (what
/// `min_energy` minimises and the budgets bound) and the distortion each
/// policy's `objective` names.
fn default_ci_metrics(policies: &[crate::policy::PolicySpec]) -> Vec<String> {
    let mut out = vec!["latency_mean_s".to_string(), "agent_energy_mean_j".to_string()];
    for p in policies {
        let name = match p.objective.unwrap_or_default() {
            Objective::Upper => "distortion_upper_mean",
            Objective::Approx => "distortion_approx_mean",
            Objective::Lower => "distortion_lower_mean",
        };
        if !out.iter().any(|m| m == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// Each of `ci_metrics` must be a per-run metric (pooled columns have no CI).
fn check_ci_metrics(raw: &RawScenario, metrics: &[String]) -> Result<(), ScenarioError> {
    if metrics.is_empty() {
        let msg = "empty list: expected at least one metric for ci_rel to meet".into();
        return Err(raw.error_at("ci_metrics", msg));
    }
    let names: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
    let Some(bad) = metrics.iter().find(|m| !names.contains(&m.as_str())) else {
        return Ok(());
    };
    let mut msg = if SCHEMA.iter().any(|m| m.name == bad) {
        format!("`{bad}` is pooled over seeds and has no confidence interval: expected a per-run metric")
    } else {
        format!("unknown metric `{bad}`: expected one of {}", names.join(", "))
    };
    msg.push_str(&did_you_mean(bad, &names));
    Err(raw.error_at("ci_metrics", msg))
}

/// Run `i` uses seed `base_seed + i`: the last one must fit in a `u64`.
fn check_last_seed(raw: &RawScenario, plan: &SeedPlan) -> Result<(), ScenarioError> {
    let last = u64::from(plan.max_seeds()) - 1;
    if raw.base_seed.checked_add(last).is_some() {
        return Ok(());
    }
    let msg = format!(
        "invalid value {}: expected base_seed <= {} (run i uses seed base_seed + i, for i < {})",
        raw.base_seed,
        u64::MAX - last,
        plan.max_seeds()
    );
    Err(raw.error_at("base_seed", msg))
}

/// Each point's reference distortion table ([`reference_table`]), computed
/// once per distinct (model, quantizer): most sweeps share one.
fn reference_tables(points: &[sweep::Point], ids: &[usize]) -> Vec<DistortionTable> {
    let configs: Vec<&RawScenario> = points.iter().map(|p| &p.scenario).collect();
    once_per_model(ids, &configs, |c| {
        let blocks = c.model.blocks.as_deref().unwrap_or_default();
        reference_table(
            &Laim::new(
                blocks,
                c.model.split,
                c.model.payload(),
                c.model.combine.unwrap_or_default(),
            ),
            &c.quantizer,
        )
    })
}

/// Fills in each point's [`StudyPoint::checkpoint_table`], measuring each
/// distinct model file once; `Err` is the reason a file cannot be measured.
fn checkpoint_tables(mut points: Vec<StudyPoint>) -> Result<Vec<StudyPoint>, String> {
    let configs: Vec<&RawScenario> = points.iter().map(|p| &p.config).collect();
    let ids: Vec<usize> = points.iter().map(|p| p.model_id).collect();
    let tables = once_per_model(&ids, &configs, |c| {
        let m = &c.model;
        let file = m.weights_file.as_ref()?;
        let blocks = m.blocks.as_deref().unwrap_or_default();
        let laim = Laim::new(blocks, m.split, m.payload(), m.combine.unwrap_or_default());
        let measure = |ck: Checkpoint| {
            laim.checkpoint_table(
                &ck,
                m.group_depth,
                m.quantize,
                c.quantizer.kind,
                c.quantizer.sample_weights,
            )
        };
        Some(
            Checkpoint::open(Path::new(file))
                .and_then(measure)
                .map_err(|e| e.to_string()),
        )
    });
    for (p, t) in points.iter_mut().zip(tables) {
        p.checkpoint_table = t.transpose()?;
    }
    Ok(points)
}

/// `f` of each configuration, computed once per distinct model and quantizer
/// (`ids` from [`model_ids`]).
fn once_per_model<T: Clone + Send>(
    ids: &[usize],
    configs: &[&RawScenario],
    f: impl Fn(&RawScenario) -> T + Sync,
) -> Vec<T> {
    let distinct: Vec<usize> = (0..ids.len()).filter(|&i| ids[i] == i).collect();
    let values: Vec<T> = distinct.par_iter().map(|&i| f(configs[i])).collect();
    ids.iter()
        .map(|id| values[distinct.binary_search(id).unwrap_or(0)].clone())
        .collect()
}

/// Each config's [`StudyPoint::model_id`]: the index of the first config
/// with the same model and quantizer.
fn model_ids(configs: &[&RawScenario]) -> Vec<usize> {
    let mut first = std::collections::HashMap::new();
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let key = serde_json::to_string(&(&c.model, &c.quantizer)).unwrap_or_default();
            *first.entry(key).or_insert(i)
        })
        .collect()
}

/// Checks one sweep point and builds its system; errors at a swept point
/// name the point and are positioned at the sweep.
fn compile_point(
    base: &RawScenario,
    point: sweep::Point,
    policies: &[LabelledPolicy],
    (approx, model_id): (DistortionTable, usize),
) -> Result<StudyPoint, ScenarioError> {
    let config = point.scenario;
    let system = check_point(&config, policies, approx).map_err(|(field, msg)| {
        if point.params.is_empty() {
            return base.error_at(&field, msg);
        }
        let at: Vec<String> = point.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        base.error_at(
            "sweep",
            format!("at sweep point ({}): field `{field}`: {msg}", at.join(", ")),
        )
    })?;
    Ok(StudyPoint {
        params: point.params,
        config,
        system,
        checkpoint_table: None,
        model_id,
    })
}

/// Cross-field rules of a resolved point, then its system; `Err` carries the
/// field path and the reason.
fn check_point(
    c: &RawScenario,
    policies: &[LabelledPolicy],
    approx: DistortionTable,
) -> Result<System, (String, String)> {
    let err = |field: &str, message: String| Err((field.to_string(), message));
    let blocks = c.model.blocks.as_deref().unwrap_or_default();
    if blocks.is_empty() {
        return err("model.blocks", "empty list: expected at least one block".into());
    }
    for (l, b) in blocks.iter().enumerate() {
        let field = format!("model.blocks[{l}].lambda");
        match (b.lambda, b.degenerate) {
            (None, false) => {
                let msg = format!("block {:?} has no lambda: give the rate of its weight magnitudes, or `degenerate: true` if they are all equal (zero distortion)", b.name);
                return err(&field, msg);
            }
            _ if b.output_bits.is_some() && b.output_elems.is_some() => {
                let msg = format!(
                    "block {:?} gives both `output_bits` and `output_elems`: give one",
                    b.name
                );
                return err(&format!("model.blocks[{l}].output_bits"), msg);
            }
            (Some(_), true) => {
                let msg = format!("block {:?} is marked `degenerate` (no law, zero distortion) and also has a lambda: give one or the other", b.name);
                return err(&field, msg);
            }
            _ => {}
        }
    }
    let n = blocks.len();
    if c.model.split > n {
        let msg = format!(
            "invalid value {}: expected a block index in 0..={n} (the model has {n} blocks)",
            c.model.split
        );
        return err("model.split", msg);
    }
    if c.warmup_s >= c.horizon_s {
        let msg = format!(
            "invalid value {}: expected a warm-up shorter than horizon_s = {}",
            c.warmup_s, c.horizon_s
        );
        return err("warmup_s", msg);
    }
    check_groups(&c.agents)?;
    if let Batching::Batch { beta, .. } = c.server.batching {
        if beta > MAX_BATCH_BETA {
            let msg = format!("invalid value {beta}: expected 0 <= beta <= {MAX_BATCH_BETA} (the cost of each further request relative to the first)");
            return err("server.batching.beta", msg);
        }
    }
    if c.channel.access == Access::SharedEqual && c.channel.link != LinkMode::Shannon {
        let msg = "a shared band (`access: SharedEqual`) needs `link: Shannon`: fixed-rate retransmission on a shared band is not modelled";
        return err("channel.access", msg.into());
    }
    if let Fading::Nakagami { m } = c.channel.fading {
        if !(0.5..=MAX_NAKAGAMI_M).contains(&m) {
            let msg = format!("invalid Nakagami m = {m}: expected 0.5 <= m <= {MAX_NAKAGAMI_M} (a larger m is practically no fading: use `fading: None`)");
            return err("channel.fading", msg);
        }
    }
    if c.channel.doppler_hz.is_some() && c.channel.rho > 0.0 {
        let msg = "give either `rho` or `doppler_hz` (which sets rho = J0(2π f_D T_c)), not both";
        return err("channel.doppler_hz", msg.into());
    }
    if c.model.split == 0 || c.model.split == n {
        if let Some(i) = policies.iter().position(|p| p.factory.needs_both_sides()) {
            let msg = format!(
                "policy `{}` chooses bits on both sides, but model.split = {} leaves one side without blocks: expected 0 < split < {n}, or only policies that do not (such as `fixed`)",
                c.policies[i].name, c.model.split
            );
            return err(&format!("policies[{i}].name"), msg);
        }
    }
    let cpu = |prefix: &str, cfg: &CpuConfig| cfg.build().map_err(|(f, m)| (format!("{prefix}.{f}"), m));
    let agent_cpu = cpu("agents.cpu", &c.agents.shared().cpu)?;
    let server_cpu = cpu("server.cpu", &c.server.cpu)?;
    let combine = c.model.combine.unwrap_or_default();
    let laim = Laim {
        result_bits: c.model.result_bits,
        ..Laim::new(blocks, c.model.split, c.model.payload(), combine)
    };
    Ok(System::new(
        laim, agent_cpu, server_cpu, &c.agents, &c.channel, &c.server, approx,
    ))
}
