//! Shard batch files: the codec gives back exactly the records it was given,
//! and refuses, each with its message, a file that is not a coinfer batch, a
//! batch of another format, metric list or place (study, shard, point,
//! batch), and a truncated or corrupt one.

use crate::util::scenario;
use coinfer::fsio::Fnv64;
use coinfer::metrics::{latency_histogram, RunRecord, RunSummary, METRICS, N_METRICS};
use coinfer::runner::Runner;
use coinfer::shard::{decode, encode, BatchId, FORMAT};

/// The identity the tests' batches are written and read with.
fn id() -> BatchId {
    BatchId {
        scenario_hash: "0123456789abcdef".into(),
        shard: (1, 3),
        point: 4,
        batch: 2,
    }
}

/// Records with awkward values: NaN payloads, −0, infinities, subnormals,
/// extreme integers, empty and saturated histograms.
fn records() -> Vec<RunRecord> {
    let specials = [
        f64::NAN,
        f64::from_bits(0xfff8_dead_beef_0001),
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE / 3.0,
        0.1 + 0.2,
        -1e300,
    ];
    (0..4u64)
        .map(|k| {
            let mut latency = latency_histogram();
            for v in (0..k * 50).map(|i| 1 + i * i * 7_919 * k) {
                latency.saturating_record(v);
            }
            latency.saturating_record(u64::MAX * (k / 3));
            RunRecord {
                policy: k as u32 % 2,
                seed_index: u32::MAX - k as u32,
                summary: RunSummary {
                    seed: u64::MAX - k,
                    completed: k * 1000,
                    dropped: k,
                    generated: 1 << (10 + k),
                    requests: 77 * k,
                    in_flight: k % 2,
                    events: u64::MAX / (k + 1),
                    fingerprint: 0x0123_4567_89ab_cdef ^ k,
                    values: std::array::from_fn(|m| {
                        specials[(m + k as usize) % specials.len()] * (m + 1) as f64
                    }),
                    // Groups of agents on odd records (finite values: compared with ==).
                    groups: (0..k % 2 * 2)
                        .map(|g| RunSummary {
                            seed: k,
                            completed: g,
                            dropped: 0,
                            generated: 1,
                            requests: 2 * g,
                            in_flight: 0,
                            events: 3,
                            fingerprint: g,
                            values: [g as f64 + 0.5; N_METRICS],
                            groups: Vec::new(),
                            deaths_s: Vec::new(),
                        })
                        .collect(),
                    // Battery deaths on one record.
                    deaths_s: if k == 2 { vec![Some(1.5), None] } else { Vec::new() },
                },
                latency,
            }
        })
        .collect()
}

fn assert_same(a: &[RunRecord], b: &[RunRecord]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!((x.policy, x.seed_index), (y.policy, y.seed_index));
        assert_eq!(
            x.summary.values.map(f64::to_bits),
            y.summary.values.map(f64::to_bits)
        );
        let no_values = |s: &RunSummary| RunSummary {
            values: [0.0; N_METRICS],
            ..s.clone()
        };
        assert_eq!(no_values(&x.summary), no_values(&y.summary));
        assert_eq!(x.latency, y.latency);
        assert_eq!(x.latency.high(), y.latency.high());
    }
}

fn refusal(bytes: &[u8]) -> String {
    match decode(bytes, &id()) {
        Ok(r) => panic!("decoded {} records from a bad file", r.len()),
        Err(e) => {
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
            e.to_string()
        }
    }
}

#[test]
fn records_round_trip_exactly() {
    let recs = records();
    assert_same(&decode(&encode(&id(), &recs), &id()).unwrap(), &recs);
    assert!(decode(&encode(&id(), &[]), &id()).unwrap().is_empty());
}

#[test]
fn batch_files_of_a_run_decode_and_encode_to_the_same_bytes() {
    let sc = scenario(
        r#"(name: "codec", horizon_s: 2.0, seeds: 3,
            policies: [(name: "fixed", bits_agent: 4, bits_server: 8), (name: "exhaustive")])"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let study = Runner::new(&sc).threads(1).out_dir(dir.path()).run().unwrap();
    let batch = dir.path().join("shards/0-of-1/p00000-b0000.bin");
    let bytes = std::fs::read(batch).unwrap();
    let here = BatchId {
        scenario_hash: sc.hash(),
        shard: (0, 1),
        point: 0,
        batch: 0,
    };
    let recs = decode(&bytes, &here).unwrap();
    assert_eq!(recs.len(), 6);
    assert_eq!(encode(&here, &recs), bytes);
    for r in &recs {
        let run = &study.points[0].policies[r.policy as usize].runs[r.seed_index as usize];
        assert_eq!(r.summary.values.map(f64::to_bits), run.values.map(f64::to_bits));
    }
}

#[test]
fn a_foreign_file_is_refused() {
    for bytes in [&b"{\"not\": \"a batch\"}"[..], b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"] {
        assert_eq!(refusal(bytes), "not a coinfer batch file");
    }
}

#[test]
fn a_batch_of_another_format_is_refused() {
    // Format 1, the hand-written codec, began with its own magic.
    let old = [&b"COINFR01"[..], &[0; 80]].concat();
    let msg = refusal(&old);
    assert!(
        msg.contains(&format!(
            "different coinfer version (format 1, this build reads format {FORMAT}); run it again"
        )),
        "{msg}"
    );
    // A later format: the version follows the 8-byte magic (one byte while < 128).
    let mut newer = encode(&id(), &records());
    assert_eq!(newer[8], FORMAT as u8);
    newer[8] = FORMAT as u8 + 1;
    let msg = refusal(&newer);
    assert!(
        msg.contains(&format!(
            "(format {}, this build reads format {FORMAT})",
            FORMAT + 1
        )),
        "{msg}"
    );
}

#[test]
fn a_batch_of_another_metric_list_is_refused() {
    // Header: 8-byte magic and a one-byte version, then the metric names.
    let ours: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
    let header = &encode(&id(), &[])[..9];
    let no_records = postcard::to_allocvec(&Vec::<RunRecord>::new()).unwrap();
    let mut sum = Fnv64::new();
    sum.write_bytes(&no_records);
    let with = |names: &[&str]| {
        let rest = (names, id(), sum.finish(), serde_bytes::Bytes::new(&no_records));
        [header, &postcard::to_allocvec(&rest).unwrap()].concat()
    };
    assert!(decode(&with(&ours), &id()).unwrap().is_empty());
    let fewer = refusal(&with(&ours[..ours.len() - 1]));
    assert!(fewer.contains("different metric list"), "{fewer}");
    assert!(
        fewer.contains(&format!(
            "is nothing where this build has `{}`",
            ours[ours.len() - 1]
        )),
        "{fewer}"
    );
    let mut renamed = ours.clone();
    renamed[1] = "renamed_metric";
    let msg = refusal(&with(&renamed));
    assert!(
        msg.contains(&format!(
            "metric 1 is `renamed_metric` where this build has `{}`); run it again",
            ours[1]
        )),
        "{msg}"
    );
}

#[test]
fn a_truncated_or_corrupt_batch_is_refused() {
    let bytes = encode(&id(), &records());
    for cut in 0..bytes.len() {
        let msg = refusal(&bytes[..cut]);
        assert!(
            msg.starts_with("truncated coinfer batch file"),
            "cut at {cut}: {msg}"
        );
    }
    let longer = [&bytes[..], &[0]].concat();
    assert_eq!(
        refusal(&longer),
        "corrupt coinfer batch file: 1 bytes after the last record"
    );
}

/// Issue 10: merge accepted a batch copied from another shard or study, and
/// a flipped float.
#[test]
fn a_batch_of_another_place_or_with_a_flipped_bit_is_refused() {
    let bytes = encode(&id(), &records());
    for other in [
        BatchId {
            shard: (0, 3),
            ..id()
        },
        BatchId { point: 5, ..id() },
        BatchId { batch: 0, ..id() },
        BatchId {
            scenario_hash: "fedcba9876543210".into(),
            ..id()
        },
    ] {
        let msg = decode(&bytes, &other).unwrap_err().to_string();
        assert!(msg.contains("batch of another place"), "{msg}");
    }
    // Flip one bit in every byte of the last record's values in turn.
    for at in bytes.len() - 400..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x10;
        assert!(
            decode(&flipped, &id()).is_err(),
            "a flip at byte {at} went unnoticed"
        );
    }
}
