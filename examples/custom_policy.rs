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
use coinfer::units::Bits;
use rand_chacha::ChaCha8Rng;

/// Below this uplink rate the policy halves its bit-widths, bit/s.
const THRESHOLD_BPS: f64 = 100e6;

/// The policy's configuration (built once per study) and its per-run state
/// (it has none, so it is its own per-run policy).
#[derive(Clone, Copy, Debug)]
struct RateThreshold {
    bits_agent: Bits,
    bits_server: Bits,
}

impl Policy for RateThreshold {
    fn decide(&mut self, ctx: &DecisionContext) -> Decision {
        let slow = ctx.rate.0 < THRESHOLD_BPS;
        let bits = |b: Bits| {
            if slow {
                Bits::nearest(f64::from(b) / 2.0)
            } else {
                b
            }
        };
        let mut d = Decision::new(
            bits(self.bits_agent),
            bits(self.bits_server),
            ctx.system.agent_cpu.max_freq(),
            ctx.system.server_cpu.max_freq(),
        );
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
    let twelve = Bits::nearest(12.0);
    let p = RateThreshold {
        bits_agent: spec.bits_agent.unwrap_or(twelve),
        bits_server: spec.bits_server.unwrap_or(twelve),
    };
    Ok(("rate_threshold".to_string(), Box::new(p)))
}

fn main() -> std::process::ExitCode {
    let mut registry = Registry::default();
    registry.register("rate_threshold", &["bits_agent", "bits_server"], construct);
    coinfer::cli::main_with(registry)
}
