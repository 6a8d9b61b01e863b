//! A policy of your own, run by the full `coinfer` command line.
//!
//! `rate_threshold` quantizes harder when the uplink is slow: at or above
//! 100 Mbit/s it uses the scenario's `bits_agent`/`bits_server` (default 12),
//! below it half of them (at least 2), always at the highest frequencies. It
//! marks a decision feasible when the static model predicts the deadline and
//! energy budget are met.
//!
//! ```text
//! cargo run --release --example custom_policy -- run my_scenario.ron
//! ```
//! where `my_scenario.ron` lists `policies: [(name: "rate_threshold"), (name: "exhaustive")]`.

use coinfer::policy::{
    predict, Decision, DecisionContext, NamedFactory, Policy, PolicyFactory, PolicySpec, Registry,
};
use rand_chacha::ChaCha8Rng;

/// Below this uplink rate the policy halves its bit-widths, bit/s.
const THRESHOLD_BPS: f64 = 100e6;

/// The policy's configuration (built once per study) and its per-run state
/// (it has none, so it is its own per-run policy).
#[derive(Clone, Copy, Debug)]
struct RateThreshold {
    bits_agent: u8,
    bits_server: u8,
}

impl Policy for RateThreshold {
    fn decide(&mut self, ctx: &DecisionContext) -> Decision {
        let slow = ctx.rate.0 < THRESHOLD_BPS;
        let bits = |b: u8| if slow { (b / 2).max(2) } else { b };
        let mut d = Decision {
            bits_agent: bits(self.bits_agent),
            bits_server: bits(self.bits_server),
            freq_agent: ctx.system.agent_cpu.max_freq(),
            freq_server: ctx.system.server_cpu.max_freq(),
            feasible: true,
            rounding_broke_budget: false,
        };
        d.feasible = predict(ctx, &d).feasible();
        d
    }
}

impl PolicyFactory for RateThreshold {
    fn build(&self, _rng: ChaCha8Rng) -> Box<dyn Policy> {
        Box::new(*self)
    }
}

/// Builds the policy from its scenario entry; the label names it in results.
fn construct(spec: &PolicySpec) -> Result<NamedFactory, (&'static str, String)> {
    let p = RateThreshold {
        bits_agent: spec.bits_agent.unwrap_or(12),
        bits_server: spec.bits_server.unwrap_or(12),
    };
    Ok(("rate_threshold".to_string(), Box::new(p)))
}

fn main() -> std::process::ExitCode {
    let mut registry = Registry::default();
    registry.register("rate_threshold", &["bits_agent", "bits_server"], construct);
    coinfer::cli::main_with(registry)
}
