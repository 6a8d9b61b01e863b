//! Scenario files (RON): parse, resolve includes, validate (SPEC 7).
//!
//! Every field has a default, so `()` is a valid scenario (the paper's system
//! with one agent). Values are checked while parsing (so the error points at
//! the offending line and column), then cross-field rules are checked and
//! policies are looked up in the [`Registry`]. Only a valid [`Scenario`] leaves
//! [`Scenario::load`]; the engine relies on that.

mod error;
mod locate;
pub mod sweep;

pub use error::ScenarioError;
pub use sweep::{Point, SweepAxis};

use crate::check;
use crate::model::agent::{AgentsConfig, Arrivals};
use crate::model::distortion::DistortionTable;
use crate::model::laim::{BlockConfig, Laim};
use crate::model::link::{ChannelConfig, Fading};
use crate::model::server::ServerConfig;
use crate::model::{synthetic_table, QuantizerConfig, System, World};
use crate::policy::{NamedFactory, PolicySpec, Registry};
use crate::quant::{load_block_weights, ProfileError};
use crate::units::Bits;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The model profile as written in a scenario: blocks inline, or a profile file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Blocks in chain order (default: a BLIP-2-OPT-2.7B-like model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<Vec<BlockConfig>>,
    /// A RON profile file (as written by `coinfer profile`) to take blocks from,
    /// relative to the scenario file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Blocks `0..split` run on the agent (default 2).
    pub split: usize,
    /// Size of the features sent at the split, bits (default 32×2560×16).
    #[serde(deserialize_with = "check::non_negative")]
    pub payload_bits: f64,
    /// A `.safetensors` file whose real tensors give the measured distortion
    /// (set from a profile's `source`; default: synthetic weights per seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights_file: Option<String>,
    /// Name components that group the file's tensors into blocks (from the profile).
    pub group_depth: usize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            blocks: None,
            profile: None,
            split: 2,
            payload_bits: 32.0 * 2560.0 * 16.0,
            weights_file: None,
            group_depth: 1,
        }
    }
}

/// The BLIP-2-OPT-2.7B-like default model. The λ values are illustrative;
/// `coinfer profile` fits them from a real model file.
pub fn blip2_blocks() -> Vec<BlockConfig> {
    let block = |name: &str, params: f64, lambda: f64| BlockConfig {
        name: name.into(),
        params,
        lambda,
        coef: None,
        ks: None,
    };
    vec![
        block("vision_encoder", 1.0e9, 50.0),
        block("qformer", 1.07e8, 40.0),
        block("language_model", 2.65e9, 45.0),
    ]
}

/// A profile file: blocks fitted from a model, as written by `coinfer profile`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// The model file the profile was fitted from.
    #[serde(default)]
    pub source: Option<String>,
    /// How many dot-separated name components grouped tensors into blocks.
    #[serde(default)]
    pub group_depth: Option<usize>,
    /// The fitted blocks.
    pub blocks: Vec<BlockConfig>,
}

/// A scenario file, validated.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Name; the default output folder is `results/<name>`.
    pub name: String,
    /// Simulated time per run, s (default 10).
    #[serde(deserialize_with = "check::positive")]
    pub horizon_s: f64,
    /// Warm-up: requests created earlier are not counted, s (default 0).
    #[serde(deserialize_with = "check::non_negative")]
    pub warmup_s: f64,
    /// Monte Carlo runs per policy (default 10).
    #[serde(deserialize_with = "check::count")]
    pub seeds: u32,
    /// Run `i` uses seed `base_seed + i` (default 1).
    pub base_seed: u64,
    /// The model and its split.
    pub model: ModelConfig,
    /// The agents.
    pub agents: AgentsConfig,
    /// The uplink.
    pub channel: ChannelConfig,
    /// The edge server.
    pub server: ServerConfig,
    /// The weight quantizer (default uniform, per-tensor scale).
    pub quantizer: QuantizerConfig,
    /// Policies to compare (default: `fixed` at 8/8 bits).
    pub policies: Vec<PolicySpec>,
    /// Label of the policy the others are compared with in `paired.csv`
    /// (default: the first policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Sweep axes; their cartesian product gives the points (default: none).
    pub sweep: Vec<SweepAxis>,
    /// Constraints `"A op B"` (op one of `< <= > >= == !=`, each side a
    /// sweepable path or a number) a sweep point must meet to be run.
    pub filter: Vec<String>,
    /// Target precision: keep adding batches of `seeds` seeds at a point until
    /// every mean's 95 % CI half-width is within `ci_rel × |mean|` (default: off).
    #[serde(
        deserialize_with = "check::positive_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ci_rel: Option<f64>,
    /// Most seeds per point with `ci_rel` (default 10 × `seeds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_seeds: Option<u32>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "scenario".into(),
            horizon_s: 10.0,
            warmup_s: 0.0,
            seeds: 10,
            base_seed: 1,
            model: ModelConfig::default(),
            agents: AgentsConfig::default(),
            channel: ChannelConfig::default(),
            server: ServerConfig::default(),
            quantizer: QuantizerConfig::default(),
            policies: vec![PolicySpec {
                name: "fixed".into(),
                bits_agent: Bits::new(8),
                bits_server: Bits::new(8),
                ..PolicySpec::default()
            }],
            reference: None,
            sweep: Vec::new(),
            filter: Vec::new(),
            ci_rel: None,
            max_seeds: None,
        }
    }
}

fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}

/// Parses RON text into `T`, with line, column and field path on error.
pub fn parse_ron<T: for<'de> Deserialize<'de>>(path: &Path, text: &str) -> Result<T, ScenarioError> {
    let invalid = |e: ron::error::SpannedError, field: String| ScenarioError::Invalid {
        path: path.to_path_buf(),
        line: e.position.line,
        col: e.position.col,
        field,
        message: e.code.to_string(),
    };
    let mut de = ron::Deserializer::from_str_with_options(text, ron_options())
        .map_err(|e| invalid(e, String::new()))?;
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { String::new() } else { field };
        let spanned = de.span_error(e.into_inner());
        invalid(spanned, field)
    })?;
    de.end().map_err(|e| invalid(de.span_error(e), String::new()))?;
    Ok(value)
}

impl Scenario {
    /// Loads and validates a scenario file with the built-in policies.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::load_with(path, &Registry::default())
    }

    /// Loads and validates a scenario file with the policies of `registry`.
    pub fn load_with(path: &Path, registry: &Registry) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Scenario::from_str_with(path, &text, registry)
    }

    /// Parses and validates scenario text; `path` names it in errors and
    /// anchors relative profile paths.
    pub fn from_str_with(path: &Path, text: &str, registry: &Registry) -> Result<Scenario, ScenarioError> {
        let mut sc: Scenario = parse_ron(path, text)?;
        let fail = |field: &str, message: String| {
            let (line, col) = locate::field(text, field);
            ScenarioError::Invalid {
                path: path.to_path_buf(),
                line,
                col,
                field: field.to_string(),
                message,
            }
        };
        if let Some(profile) = sc.model.profile.take() {
            if sc.model.blocks.is_some() {
                return Err(fail(
                    "model.profile",
                    "give either `blocks` or `profile`, not both".into(),
                ));
            }
            let ppath = path.parent().unwrap_or(Path::new(".")).join(&profile);
            let ptext = std::fs::read_to_string(&ppath).map_err(|e| {
                fail(
                    "model.profile",
                    format!("cannot read profile {}: {e}", ppath.display()),
                )
            })?;
            let file: ProfileFile = parse_ron(&ppath, &ptext)?;
            sc.model.blocks = Some(file.blocks);
            if let Some(source) = file.source {
                let dir = ppath.parent().unwrap_or(Path::new("."));
                sc.model.weights_file = Some(dir.join(source).display().to_string());
                sc.model.group_depth = file.group_depth.unwrap_or(1);
            }
        }
        sc.model.blocks.get_or_insert_with(blip2_blocks);
        sc.check(registry)
            .map_err(|(field, msg): (String, String)| fail(&field, msg))?;
        let points = sweep::points(&sc).map_err(|(field, msg): (String, String)| fail(&field, msg))?;
        for p in &points {
            p.scenario.check(registry).map_err(|(field, msg)| {
                let at: Vec<String> = p.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                fail(
                    "sweep",
                    format!("at sweep point ({}): field `{field}`: {msg}", at.join(", ")),
                )
            })?;
        }
        Ok(sc)
    }

    /// Cross-field rules of a resolved scenario (blocks filled in); `Err`
    /// carries the field path and the reason.
    pub fn check(&self, registry: &Registry) -> Result<(), (String, String)> {
        let err = |field: &str, message: String| (field.to_string(), message);
        let sc = self;
        let blocks = sc.model.blocks.as_deref().unwrap_or_default();
        if blocks.is_empty() {
            return Err(err(
                "model.blocks",
                "empty list: expected at least one block".into(),
            ));
        }
        if sc.model.split > blocks.len() {
            return Err(err(
                "model.split",
                format!(
                    "invalid value {}: expected a block index in 0..={} (the model has {} blocks)",
                    sc.model.split,
                    blocks.len(),
                    blocks.len()
                ),
            ));
        }
        if sc.warmup_s >= sc.horizon_s {
            return Err(err(
                "warmup_s",
                format!(
                    "invalid value {}: expected a warm-up shorter than horizon_s = {}",
                    sc.warmup_s, sc.horizon_s
                ),
            ));
        }
        if let Arrivals::Periodic { period_s, jitter_s } = sc.agents.arrivals {
            if jitter_s >= period_s {
                return Err(err(
                    "agents.arrivals.jitter_s",
                    format!("invalid value {jitter_s}: expected a jitter below period_s = {period_s}"),
                ));
            }
        }
        for (prefix, cpu) in [("agents.cpu", &sc.agents.cpu), ("server.cpu", &sc.server.cpu)] {
            cpu.validate()
                .map_err(|(field, msg)| (format!("{prefix}.{field}"), msg))?;
        }
        if let Fading::Nakagami { m } = sc.channel.fading {
            if m < 0.5 {
                return Err(err(
                    "channel.fading",
                    format!("invalid Nakagami m = {m}: expected m >= 0.5"),
                ));
            }
            if sc.channel.rho > 0.0 {
                return Err(err(
                    "channel.rho",
                    "correlated blocks (rho > 0) are available for Rayleigh and Rician fading only".into(),
                ));
            }
        }
        let labels: Vec<String> = sc
            .policy_factories(registry)
            .map_err(|(i, field, msg)| (format!("policies[{i}].{field}"), msg))?
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        if let Some(r) = &sc.reference {
            if !labels.contains(r) {
                return Err(err(
                    "reference",
                    format!(
                        "unknown policy label \"{r}\": expected one of {}",
                        labels.join(", ")
                    ),
                ));
            }
        }
        let blocks = blocks.len();
        if sc.model.split == 0 || sc.model.split == blocks {
            if let Some(i) = sc.policies.iter().position(|p| p.name != "fixed") {
                return Err(err(
                    &format!("policies[{i}].name"),
                    format!(
                        "policy `{}` chooses bits on both sides, but model.split = {} leaves one side without blocks: expected 0 < split < {blocks}, or only `fixed` policies",
                        sc.policies[i].name, sc.model.split
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `(label, factory)` of each policy, in scenario order; `Err` carries the
    /// policy index, the field and the reason.
    pub fn policy_factories(
        &self,
        registry: &Registry,
    ) -> Result<Vec<NamedFactory>, (usize, &'static str, String)> {
        if self.policies.is_empty() {
            return Err((
                0,
                "name",
                format!(
                    "no policy given: expected at least one of {}",
                    registry.names().join(", ")
                ),
            ));
        }
        let mut out: Vec<NamedFactory> = Vec::new();
        for (i, spec) in self.policies.iter().enumerate() {
            let (label, factory) = registry.build(spec).map_err(|(f, m)| (i, f, m))?;
            if out.iter().any(|(l, _)| *l == label) {
                return Err((
                    i,
                    "label",
                    format!("duplicate policy label \"{label}\": give each policy a distinct `label`"),
                ));
            }
            out.push((label, factory));
        }
        Ok(out)
    }

    /// The validated model profile.
    pub fn laim(&self) -> Laim {
        let blocks = self.model.blocks.as_deref().expect("resolved at load");
        Laim::new(blocks, self.model.split, self.model.payload_bits)
    }

    /// The static system shared by all runs.
    pub fn system(&self) -> System {
        System::new(
            self.laim(),
            &self.agents,
            &self.channel,
            &self.server,
            &self.quantizer,
        )
    }

    /// The measured-distortion table of each seed: the quantizer applied to
    /// the real tensors of `model.weights_file` (the same for every seed), or
    /// to synthetic weights drawn from each seed's `Weights` streams.
    pub fn measured_tables(&self, laim: &Laim, seeds: &[u64]) -> Result<Vec<DistortionTable>, ProfileError> {
        match &self.model.weights_file {
            Some(file) => {
                let path = Path::new(file);
                let mut weights = Vec::new();
                for b in &laim.blocks {
                    weights.push(load_block_weights(
                        path,
                        &b.name,
                        self.model.group_depth,
                        self.quantizer.sample_weights,
                    )?);
                }
                let q = self.quantizer.kind.build();
                let table = laim.quantizer_table(q.as_ref(), |l| weights[l].clone());
                Ok(vec![table; seeds.len()])
            }
            None => Ok(seeds
                .par_iter()
                .map(|&s| synthetic_table(laim, &self.quantizer, s))
                .collect()),
        }
    }

    /// The initial state of the run with seed `seed`.
    pub fn world<'a>(&self, system: &'a System, seed: u64) -> World<'a> {
        World::new(
            system,
            &self.agents,
            &self.channel,
            &self.server,
            self.horizon_s,
            self.warmup_s,
            seed,
        )
    }

    /// The resolved scenario as RON (every field explicit); loading it gives
    /// back the same scenario.
    pub fn to_ron(&self) -> String {
        let pretty = ron::ser::PrettyConfig::new()
            .struct_names(false)
            .indentor("    ".into());
        let body = ron::ser::to_string_pretty(self, pretty).expect("scenario serializes");
        format!(
            "// Resolved scenario written by coinfer {}\n{body}\n",
            env!("CARGO_PKG_VERSION")
        )
    }

    /// Expected number of requests per run (all agents, whole horizon).
    pub fn expected_requests(&self) -> f64 {
        self.agents.count as f64 * self.agents.arrivals.rate_hz() * self.horizon_s
    }

    /// Seeds of the runs: `base_seed + i`.
    pub fn seed_list(&self) -> Vec<u64> {
        (0..self.seeds as u64).map(|i| self.base_seed + i).collect()
    }

    /// The default output folder, `results/<name>`.
    pub fn default_out_dir(&self) -> PathBuf {
        PathBuf::from("results").join(&self.name)
    }
}
