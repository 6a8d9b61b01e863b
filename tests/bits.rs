//! Bit-widths: valid by construction, in code and in scenario files.

use crate::util::bw;
use coinfer::policy::Registry;
use coinfer::study::Study;
use coinfer::units::{Bits, InvalidBits};

const REFUSED_17: &str =
    "invalid bit-width 17: expected an integer in 2..=16 (1 sign bit + at least 1 magnitude bit)";

#[test]
fn bits_are_2_to_16() {
    for b in [0u8, 1, 17, 255] {
        assert_eq!(Bits::new(b), None, "{b} accepted");
    }
    for b in 2..=16u8 {
        assert_eq!(Bits::new(b).map(Bits::get), Some(b));
    }
    assert_eq!((Bits::MIN.get(), Bits::MAX.get()), (2, 16));
    let all: Vec<u8> = Bits::all().map(Bits::get).collect();
    assert_eq!(all, (2..=16).collect::<Vec<u8>>());
    let some: Vec<u8> = Bits::range(bw(4), bw(6)).rev().map(u8::from).collect();
    assert_eq!(some, [6, 5, 4]);
    assert_eq!(Bits::range(bw(6), bw(4)).len(), 0);
    assert_eq!(bw(8).magnitude_bits(), 7);
    assert_eq!(format!("{:>3}|{}", bw(8), bw(16)), "  8|16");
    assert_eq!(Bits::try_from(17u32), Err(InvalidBits(17)));
    assert_eq!(Bits::try_from(1u32 << 16), Err(InvalidBits(1 << 16)));
    assert_eq!(InvalidBits(17).to_string(), REFUSED_17);
}

#[test]
fn nearest_rounds_and_saturates() {
    assert_eq!(Bits::nearest(7.5), bw(8));
    assert_eq!(Bits::nearest(7.49), bw(7));
    assert_eq!(Bits::nearest(0.0), Bits::MIN);
    assert_eq!(Bits::nearest(-3.0), Bits::MIN);
    assert_eq!(Bits::nearest(f64::NAN), Bits::MIN);
    assert_eq!(Bits::nearest(1e9), Bits::MAX);
}

#[test]
fn bits_serialize_as_plain_integers() {
    assert_eq!(serde_json::to_string(&bw(8)).unwrap(), "8");
    assert_eq!(serde_json::from_str::<Bits>("8").unwrap(), bw(8));
    for bad in ["0", "1", "17", "300"] {
        let err = serde_json::from_str::<Bits>(bad).unwrap_err().to_string();
        assert!(err.contains(&format!("invalid bit-width {bad}:")), "{err}");
    }
    assert!(serde_json::from_str::<Bits>("-1").is_err());
    assert!(serde_json::from_str::<Bits>("8.5").is_err());
}

#[test]
fn scenario_refuses_17_bits() {
    let text = "(policies: [\n (name: \"fixed\", bits_agent: 17),\n])";
    let err = Study::from_str("bad.ron".as_ref(), text, &Registry::default())
        .unwrap_err()
        .to_string();
    for part in ["bad.ron:2:", "policies[0].bits_agent", REFUSED_17] {
        assert!(err.contains(part), "error message\n  {err}\nlacks `{part}`");
    }
}

#[test]
fn scenario_reads_bits_with_and_without_some() {
    for (text, expected) in [
        (
            "(policies: [(name: \"fixed\", bits_agent: 6, bits_server: Some(8))])",
            [6, 8],
        ),
        (
            "(policies: [(name: \"exhaustive\", bits_min: 3, bits_max: Some(9))])",
            [3, 9],
        ),
    ] {
        let sc = Study::from_str("ok.ron".as_ref(), text, &Registry::default()).unwrap();
        let p = &sc.scenario().policies[0];
        let set: Vec<u8> = [p.bits_agent, p.bits_server, p.bits_min, p.bits_max]
            .into_iter()
            .flatten()
            .map(u8::from)
            .collect();
        assert_eq!(set, expected, "{text}");
    }
}
