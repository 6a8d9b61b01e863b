//! Scenario files (RON, SPEC 7): the serde mirror [`RawScenario`], parsed with
//! file, line, column and field path on every error.
//!
//! A `RawScenario` is only what the file says: every field has a documented
//! default and a block may be written in part (`agents: (cpu: (freqs_ghz:
//! [1.0, 2.0]))` keeps the agent preset's other CPU fields). Resolving,
//! validating and compiling it is the job of [`crate::study::Study::compile`];
//! the engine only ever sees a compiled study.

mod error;
mod generate;
mod inherit;
mod locate;
mod pretty;
pub mod sweep;
mod tree;

pub use error::ScenarioError;
pub use sweep::{Point, SweepAxis};

use crate::check;
use crate::model::agent::Agents;
use crate::model::laim::BlockConfig;
use crate::model::link::ChannelConfig;
use crate::model::server::ServerConfig;
use crate::model::QuantizerConfig;
use crate::plot::spec::FigureSpec;
use crate::plot::Format;
use crate::policy::PolicySpec;
use crate::quant::{Aggregation, Quantize};
use crate::units::Bits;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    /// Size of the features sent at the split, bits. Default: the output of
    /// the last agent-side block (`output_bits`, or `output_elems` ×
    /// `feature_bits`) when it declares one, else 32×2560×16.
    #[serde(
        deserialize_with = "check::non_negative_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub payload_bits: Option<f64>,
    /// Bits per feature element, for blocks that give `output_elems` (default 16).
    #[serde(deserialize_with = "check::positive")]
    pub feature_bits: f64,
    /// Size of the result sent back to the agent over its channel, bits
    /// (default 0: no downlink).
    #[serde(deserialize_with = "check::non_negative")]
    pub result_bits: f64,
    /// A `.safetensors` file whose real tensors give the measured distortion
    /// (set from a profile's `source`; default: synthetic weights per seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights_file: Option<String>,
    /// Name components that group the file's tensors into blocks (from the profile).
    pub group_depth: usize,
    /// Which of the file's tensors are quantized (from the profile; default
    /// `Matrices`: vectors stay at 16 bits).
    pub quantize: Quantize,
    /// How the blocks' terms `A_l n_l d_l` combine in `distortion_approx`,
    /// `distortion_measured` and the `approx` objective: `Linear` (their
    /// sum, SPEC 3.3) or `Quadrature` (the root of the sum of their squares).
    /// Default: the profile's choice, else `Linear`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub combine: Option<Aggregation>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            blocks: None,
            profile: None,
            split: 2,
            payload_bits: None,
            feature_bits: 16.0,
            result_bits: 0.0,
            weights_file: None,
            group_depth: 1,
            quantize: Quantize::Matrices,
            combine: None,
        }
    }
}

/// Features sent at the split when neither the model nor the last agent
/// block says: 32 tokens × 2560 dims × 16 bits.
pub const DEFAULT_PAYLOAD_BITS: f64 = 32.0 * 2560.0 * 16.0;

impl ModelConfig {
    /// The bits sent at the split (see [`ModelConfig::payload_bits`]).
    pub fn payload(&self) -> f64 {
        let blocks = self.blocks.as_deref().unwrap_or_default();
        let last_agent = self.split.checked_sub(1).and_then(|l| blocks.get(l));
        let declared =
            last_agent.and_then(|b| b.output_bits.or(b.output_elems.map(|e| e * self.feature_bits)));
        self.payload_bits.or(declared).unwrap_or(DEFAULT_PAYLOAD_BITS)
    }
}

/// The BLIP-2-OPT-2.7B-like default model. The λ values are illustrative;
/// `coinfer profile` fits them from a real model file.
pub fn blip2_blocks() -> Vec<BlockConfig> {
    let block = |name: &str, params: f64, lambda: f64| BlockConfig {
        name: name.into(),
        params,
        lambda: Some(lambda),
        degenerate: false,
        output_bits: None,
        output_elems: None,
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
    /// Which tensors the profile counts as quantized (default `Matrices`).
    #[serde(default)]
    pub quantize: Quantize,
    /// How the blocks' terms combine, if the coefficients were fitted for it.
    #[serde(default)]
    pub combine: Option<Aggregation>,
    /// The fitted blocks.
    pub blocks: Vec<BlockConfig>,
}

/// Where a scenario's text came from: anchors relative paths and error positions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Source {
    /// The file (as given; `"-"` or a made-up name for inline text).
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// The file it `extends`, if any.
    pub extends: Option<Box<Source>>,
}

impl Source {
    /// An error at `field` (a dotted path, `name[i]` for list items),
    /// positioned where the field is written: in this file, else in the
    /// file it extends (and so on), else at its nearest enclosing field here.
    pub fn error_at(&self, field: &str, message: String) -> ScenarioError {
        let mut source = Some(self);
        while let Some(s) = source {
            if let Some(at) = locate::written(&s.text, field) {
                return s.invalid(at, field, message);
            }
            source = s.extends.as_deref();
        }
        self.invalid(locate::field(&self.text, field), field, message)
    }

    /// An error at byte offset `at` of this file.
    fn error_at_offset(&self, at: usize, field: &str, message: String) -> ScenarioError {
        self.invalid(locate::line_col(&self.text, at), field, message)
    }

    fn invalid(&self, (line, col): (usize, usize), field: &str, message: String) -> ScenarioError {
        ScenarioError::Invalid {
            path: self.path.clone(),
            line,
            col,
            field: field.to_string(),
            message,
        }
    }
}

/// A scenario file as written: the serde mirror, every field defaulted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawScenario {
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
    pub agents: Agents,
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
    /// Figures to draw (default: a set chosen from the sweep's shape).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub figures: Vec<FigureSpec>,
    /// Image formats of the figures (default `[Svg, Png]`; `[]`: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plots: Option<Vec<Format>>,
    /// A series' style index by label, overriding the default palette.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub styles: BTreeMap<String, usize>,
    /// A scenario file (relative to this one) that this one changes: what
    /// this file writes overrides it, a struct block field by field. Merged
    /// in by [`RawScenario::parse`], so always `None` afterwards.
    #[serde(skip_serializing)]
    pub extends: Option<String>,
    /// The per-run metrics (`summary.csv` columns) `ci_rel` must meet. Default:
    /// `latency_mean_s`, `agent_energy_mean_j` and the distortion each
    /// policy's `objective` names (`distortion_upper_mean` by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci_metrics: Option<Vec<String>>,
    /// Absolute precision floor with `ci_rel`: a mean is precise enough when
    /// its CI half-width is within `max(ci_rel × |mean|, ci_abs)` (default 0).
    #[serde(
        deserialize_with = "check::non_negative_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ci_abs: Option<f64>,
    /// The file this scenario was read from (not part of the scenario).
    #[serde(skip)]
    pub source: Source,
}

/// Fields that control how a study is run, not what is simulated: they
/// cannot be swept.
pub const RUN_CONTROL: [&str; 14] = [
    "name",
    "seeds",
    "base_seed",
    "ci_rel",
    "max_seeds",
    "ci_metrics",
    "ci_abs",
    "reference",
    "policies",
    "sweep",
    "filter",
    "figures",
    "plots",
    "styles",
];

impl Default for RawScenario {
    fn default() -> Self {
        RawScenario {
            name: "scenario".into(),
            horizon_s: 10.0,
            warmup_s: 0.0,
            seeds: 10,
            base_seed: 1,
            model: ModelConfig::default(),
            agents: Agents::default(),
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
            figures: Vec::new(),
            plots: None,
            styles: BTreeMap::new(),
            extends: None,
            ci_metrics: None,
            ci_abs: None,
            source: Source::default(),
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
        message: explain(&e.code),
    };
    let mut de = ron::Deserializer::from_str_with_options(text, ron_options())
        .map_err(|e| invalid(e, String::new()))?;
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = readable_path(&e.path().to_string());
        let spanned = de.span_error(e.into_inner());
        invalid(spanned, field)
    })?;
    de.end().map_err(|e| invalid(de.span_error(e), String::new()))?;
    Ok(value)
}

/// A field path as shown in errors: without serde's `?` for an unknown key,
/// and cut short when a value is nested very deeply.
fn readable_path(path: &str) -> String {
    let path = path
        .trim_start_matches('.')
        .trim_end_matches('?')
        .trim_end_matches('.');
    match path.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &path[..cut]),
        None => path.to_string(),
    }
}

/// The message of a RON error, with a suggestion for a misspelt name and no
/// advice about crates the user never chose.
fn explain(code: &ron::Error) -> String {
    use ron::Error as E;
    match code {
        E::NoSuchStructField { expected, found, .. } | E::NoSuchEnumVariant { expected, found, .. } => {
            // ron writes "`x`in `Outer`"; put the space back.
            let text = code.to_string().replace("`in `", "` in `");
            text + &did_you_mean(found, expected)
        }
        E::ExceededRecursionLimit => "nested too deeply: expected a scenario of at most 128 levels".into(),
        E::ExpectedStringEnd => "unclosed string: it opens here and has no closing `\"`".into(),
        _ => code.to_string(),
    }
}

/// `; did you mean `best`?` when a valid name is close to `found`, else nothing.
pub(crate) fn did_you_mean(found: &str, valid: &[&str]) -> String {
    closest(found, valid).map_or(String::new(), |b| format!("; did you mean `{b}`?"))
}

/// The valid name closest to `found`, if it is close enough to be a typo.
fn closest<'a>(found: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (strsim::damerau_levenshtein(found, v), *v))
        .filter(|&(d, v)| d <= 2.max(v.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, v)| v)
}

impl RawScenario {
    /// Reads and parses a scenario file.
    pub fn load(path: &Path) -> Result<RawScenario, ScenarioError> {
        let bytes = std::fs::read(path).map_err(|source| ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| ScenarioError::Invalid {
            path: path.to_path_buf(),
            line: 0,
            col: 0,
            field: String::new(),
            message: format!(
                "not UTF-8 text (invalid byte at offset {}): expected a RON scenario file",
                e.utf8_error().valid_up_to()
            ),
        })?;
        RawScenario::parse(path, &text)
    }

    /// Parses scenario text; `path` names it in errors and anchors relative
    /// paths. Sweep generators are expanded into lists and the files it
    /// `extends` merged in, so the result is the scenario written out.
    pub fn parse(path: &Path, text: &str) -> Result<RawScenario, ScenarioError> {
        let alone: RawScenario = parse_ron(path, text)?;
        if !inherit::rewrites(&alone) {
            let source = Source {
                path: path.to_path_buf(),
                text: text.to_string(),
                extends: None,
            };
            return Ok(RawScenario { source, ..alone });
        }
        let read = inherit::read(path, text, &mut vec![inherit::key(path)])?;
        let mut raw: RawScenario = parse_ron(path, &read.doc.to_string()).map_err(|e| match e {
            ScenarioError::Invalid { field, message, .. } => read.source.error_at(&field, message),
            other => other,
        })?;
        raw.source = read.source;
        Ok(raw)
    }

    /// An error at `field` (a dotted path, `name[i]` for list items),
    /// positioned where the field is written (see [`Source::error_at`]).
    pub fn error_at(&self, field: &str, message: String) -> ScenarioError {
        self.source.error_at(field, message)
    }

    /// The folder that relative paths in the scenario are taken from.
    pub fn base_dir(&self) -> &Path {
        match self.source.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    /// The scenario without what only changes how results are shown
    /// (`figures`, `plots`, `styles`): what a study's hash is taken of.
    pub fn simulated(&self) -> RawScenario {
        RawScenario {
            figures: Vec::new(),
            plots: None,
            styles: BTreeMap::new(),
            ..self.clone()
        }
    }

    /// The scenario as RON, every field explicit, numbers in their shortest
    /// readable form (`2e-27`, not `0.000…002`); parsing it gives back the
    /// same scenario.
    pub fn to_ron(&self) -> String {
        let pretty = ron::ser::PrettyConfig::new()
            .struct_names(false)
            .indentor("    ".into())
            .extensions(ron::extensions::Extensions::IMPLICIT_SOME);
        let body = ron::ser::to_string_pretty(self, pretty).expect("scenario serializes");
        format!(
            "// Resolved scenario written by coinfer {}\n{}\n",
            env!("CARGO_PKG_VERSION"),
            pretty::readable_numbers(&body)
        )
    }
}
