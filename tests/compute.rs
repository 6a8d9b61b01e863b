//! Issue 13: the compute side as it behaves (payload from the split).

use crate::util::column;
use coinfer::model::link::{ChannelConfig, Fading};

/// The payload is the output of the last agent-side block, so a split sweep
/// sends what each split's block outputs (no fading: exact times).
#[test]
fn a_split_sweep_sends_each_blocks_output() {
    let text = "(seeds: 2, horizon_s: 10, channel: (fading: None),
        model: (feature_bits: 8, blocks: [
            (name: \"a\", params: 1e6, lambda: 50, output_bits: Some(2e6)),
            (name: \"b\", params: 1e6, lambda: 50, output_elems: Some(50000)),
            (name: \"c\", params: 1e6, lambda: 50)]),
        policies: [(name: \"fixed\", bits_agent: 8, bits_server: 8)],
        sweep: [(param: \"model.split\", values: [1, 2])])";
    let summary = crate::regression::run_quiet(text);
    let cfg = ChannelConfig {
        fading: Fading::None,
        ..ChannelConfig::default()
    };
    let rate = cfg.rate(cfg.mean_snr(30.0, 0.0)).0;
    let tx: Vec<f64> = column(&summary, "tx_time_mean_s")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    for (got, bits) in tx.iter().zip([2e6, 50000.0 * 8.0]) {
        assert!((got - bits / rate).abs() < 2e-9, "{got} vs {}", bits / rate);
    }
    // `model.payload_bits` overrides the blocks.
    let s = crate::util::scenario(
        "(model: (payload_bits: Some(123.0), split: 1, blocks: [(params: 1, lambda: 1, output_bits: Some(9.0)), (params: 1, lambda: 1)]))",
    );
    assert_eq!(s.points[0].system.laim.payload_bits, 123.0);
}
