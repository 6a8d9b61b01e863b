//! `fixed`: given bits (default 16/16) at maximum frequencies.

use super::solver::Evaluation;
use super::{predict, Decision, DecisionContext, NamedFactory, Policy, PolicyFactory, PolicySpec};
use crate::units::Bits;
use rand_chacha::ChaCha8Rng;

/// Always the same bits, at the highest agent and server frequencies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fixed {
    /// Agent bit-width.
    pub bits_agent: Bits,
    /// Server bit-width.
    pub bits_server: Bits,
}

pub(super) fn construct(spec: &PolicySpec) -> Result<NamedFactory, (&'static str, String)> {
    let f = Fixed {
        bits_agent: spec.bits_agent.unwrap_or(Bits::MAX),
        bits_server: spec.bits_server.unwrap_or(Bits::MAX),
    };
    Ok((format!("fixed_{}_{}", f.bits_agent, f.bits_server), Box::new(f)))
}

impl PolicyFactory for Fixed {
    fn build(&self, _rng: ChaCha8Rng) -> Box<dyn Policy> {
        Box::new(*self)
    }

    /// Given bits run on whichever side has blocks.
    fn needs_both_sides(&self) -> bool {
        false
    }
}

impl Policy for Fixed {
    /// Feasible when the static model predicts the deadline and budget met.
    fn decide(&mut self, ctx: &DecisionContext) -> Decision {
        self.decide_predicted(ctx).0
    }

    /// The prediction that sets `feasible`, evaluated once.
    fn decide_predicted(&mut self, ctx: &DecisionContext) -> (Decision, Evaluation) {
        let mut d = Decision::new(
            self.bits_agent,
            self.bits_server,
            ctx.system.agent_cpu.max_freq(),
            ctx.system.server_cpu.max_freq(),
        );
        let predicted = predict(ctx, &d);
        d.feasible = predicted.feasible();
        (d, predicted)
    }
}
