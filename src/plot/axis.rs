//! Axis ranges, tick placement and compact tick-label formatting (linear and log10 axes).

/// A fully resolved axis: range in transformed space, tick positions and their labels.
#[derive(Clone, Debug)]
pub(crate) struct Axis {
    /// Lower end in transformed space (`log10(v)` for log axes).
    lo: f64,
    /// Upper end in transformed space.
    hi: f64,
    log: bool,
    /// Desired number of labelled ticks.
    target: usize,
    /// Labelled ticks (data values).
    pub major: Vec<f64>,
    /// Unlabelled minor ticks (data values).
    pub minor: Vec<f64>,
    /// One label per major tick.
    pub labels: Vec<String>,
    /// Common scale factor shown once next to the axis (e.g. `×10⁶`), if any.
    pub offset: Option<String>,
    /// Category labels at 0, 1, …: the ticks are fixed.
    categorical: bool,
}

impl Axis {
    /// Builds an axis covering `values` (finite, and positive for log axes) with about `target`
    /// major ticks on a linear axis.
    pub fn new(values: &[f64], log: bool, target: usize) -> Axis {
        let t = |v: f64| if log { v.log10() } else { v };
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for &v in values {
            let tv = t(v);
            if tv.is_finite() {
                lo = lo.min(tv);
                hi = hi.max(tv);
            }
        }
        if lo > hi {
            // No data: a unit range (1..10 on log axes), padded like real data below.
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo <= 1e-9 * lo.abs().max(hi.abs()) {
            // Single value: pad symmetrically so the point sits in the middle.
            let d = if log {
                0.5
            } else if lo == 0.0 {
                1.0
            } else {
                0.1 * lo.abs()
            };
            (lo, hi) = (lo - d, hi + d);
        } else {
            let pad = 0.05 * (hi - lo);
            (lo, hi) = (lo - pad, hi + pad);
        }
        let mut axis = Axis {
            lo,
            hi,
            log,
            target: 0,
            major: vec![],
            minor: vec![],
            labels: vec![],
            offset: None,
            categorical: false,
        };
        axis.retarget(target);
        axis
    }

    /// An axis over exactly `lo..=hi` (data values; positive on log axes).
    pub fn limited(lo: f64, hi: f64, log: bool, target: usize) -> Axis {
        let mut axis = Axis::new(&[lo, hi], log, target);
        let t = |v: f64| if log { v.log10() } else { v };
        (axis.lo, axis.hi) = (t(lo), t(hi));
        axis.retarget(target);
        axis
    }

    /// A categorical axis: one labelled tick at each of 0, 1, …, n − 1.
    pub fn categories(labels: &[String]) -> Axis {
        Axis {
            lo: -0.5,
            hi: labels.len().max(1) as f64 - 0.5,
            log: false,
            target: labels.len(),
            major: (0..labels.len()).map(|i| i as f64).collect(),
            minor: vec![],
            labels: labels.to_vec(),
            offset: None,
            categorical: true,
        }
    }

    /// Rebuilds the ticks for a different target count (used to avoid label overlap).
    pub fn retarget(&mut self, target: usize) {
        if self.categorical {
            return;
        }
        self.target = target.max(2);
        self.major.clear();
        self.minor.clear();
        self.offset = None;
        if self.log {
            self.log_ticks();
        } else {
            let (major, step) = linear_ticks(self.lo, self.hi, self.target);
            self.set_linear_labels(major, step);
        }
    }

    /// Position of data value `v` as a fraction of the axis length (0 = low end).
    pub fn frac(&self, v: f64) -> f64 {
        let tv = if self.log { v.log10() } else { v };
        (tv - self.lo) / (self.hi - self.lo)
    }

    fn set_linear_labels(&mut self, major: Vec<f64>, step: f64) {
        let (labels, offset) = format_linear(&major, step);
        self.major = major;
        self.labels = labels;
        self.offset = offset;
        self.minor.clear();
    }

    fn log_ticks(&mut self) {
        let (lo, hi) = (self.lo, self.hi);
        let inside = |v: f64| {
            let l = v.log10();
            l >= lo - 1e-9 && l <= hi + 1e-9
        };
        let (k0, k1) = (lo.floor() as i32, hi.ceil() as i32);
        let decades: Vec<i32> = (k0..=k1).filter(|&k| inside(pow10(1, k))).collect();
        let max_labels = self.target + 2;
        if decades.len() >= 3 || (decades.len() == 2 && 3 * 2 > max_labels) {
            let stride = decades.len().div_ceil(max_labels) as i32;
            for k in k0..=k1 {
                let v = pow10(1, k);
                if inside(v) && k.rem_euclid(stride) == 0 {
                    self.major.push(v);
                } else if inside(v) {
                    self.minor.push(v);
                }
                if stride == 1 {
                    self.minor
                        .extend((2..=9).map(|m| pow10(m, k)).filter(|&v| inside(v)));
                }
            }
        } else {
            for mantissas in [&[1u32, 2, 5][..], &[1, 2, 3, 4, 5, 6, 7, 8, 9][..]] {
                self.major.clear();
                self.minor.clear();
                for k in k0..=k1 {
                    for m in 1..=9 {
                        let v = pow10(m, k);
                        if !inside(v) {
                            continue;
                        }
                        if mantissas.contains(&m) {
                            self.major.push(v);
                        } else {
                            self.minor.push(v);
                        }
                    }
                }
                if self.major.len() >= 2 || (decades.len() == 2 && self.major.len() <= max_labels) {
                    break;
                }
            }
            if self.major.len() < 2 {
                // Less than a factor of two across the axis: plain linear ticks in data space.
                let (major, step) = linear_ticks(10f64.powf(lo), 10f64.powf(hi), 4);
                self.major = major.into_iter().filter(|&v| v > 0.0).collect();
                self.minor.clear();
                let (labels, offset) = format_linear(&self.major, step);
                self.labels = labels;
                self.offset = offset;
                return;
            }
        }
        let plain = self.major.iter().all(|&v| (1e-3..1e4).contains(&v));
        self.labels = self
            .major
            .iter()
            .map(|&v| if plain { format!("{v}") } else { sci_label(v) })
            .collect();
    }
}

/// `m × 10^k` as the f64 nearest to the exact decimal value (avoids `powi` rounding noise).
fn pow10(m: u32, k: i32) -> f64 {
    format!("{m}e{k}").parse().unwrap_or(f64::NAN)
}

/// Nice linear ticks (steps of 1, 2, 5 × 10^k; no 2.5, which puts halves on integer axes) inside `[lo, hi]`; returns ticks and step.
fn linear_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return (vec![lo], 1.0);
    }
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    // The candidate whose tick count is closest to the target (ties: the coarser step).
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .min_by(|a, b| {
            let da = (span / a - target as f64).abs();
            let db = (span / b - target as f64).abs();
            da.total_cmp(&db).then(b.total_cmp(a))
        })
        .unwrap_or(mag);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    let ticks = (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            if v.abs() < step * 1e-9 {
                0.0
            } else {
                v
            }
        })
        .collect();
    (ticks, step)
}

/// Formats linear ticks with the fewest decimals that represent every tick, factoring out a
/// power of 1000 when the values are very large or very small.
fn format_linear(ticks: &[f64], step: f64) -> (Vec<String>, Option<String>) {
    let max_abs = ticks.iter().fold(0f64, |m, v| m.max(v.abs()));
    let mut exp = 0i32;
    if max_abs >= 1e5 || (max_abs > 0.0 && max_abs < 1e-3) {
        exp = (max_abs.log10().floor() as i32).div_euclid(3) * 3;
    }
    let scale = pow10(1, exp);
    let scaled: Vec<f64> = ticks.iter().map(|v| v / scale).collect();
    let sstep = step / scale;
    let decimals = (0..=12usize)
        .find(|&d| {
            let f = 10f64.powi(d as i32);
            scaled
                .iter()
                .all(|v| ((v * f).round() / f - v).abs() <= sstep * 1e-6)
        })
        .unwrap_or(12);
    let labels = scaled
        .iter()
        .map(|v| {
            let s = format!("{v:.decimals$}");
            match s.strip_prefix('-') {
                // Negative zero after rounding prints without a sign.
                Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
                Some(rest) => format!("\u{2212}{rest}"),
                None => s,
            }
        })
        .collect();
    let offset = (exp != 0).then(|| format!("×10{}", superscript(exp)));
    (labels, offset)
}

/// `10⁻⁵` or `2×10⁻⁵` style label for a log tick.
fn sci_label(v: f64) -> String {
    let k = v.log10().floor() as i32;
    let m = (v / pow10(1, k)).round() as i64;
    if m == 1 {
        format!("10{}", superscript(k))
    } else {
        format!("{m}×10{}", superscript(k))
    }
}

/// Integer in Unicode superscript digits (with a superscript minus).
fn superscript(n: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s = String::new();
    if n < 0 {
        s.push('⁻');
    }
    for c in n.unsigned_abs().to_string().chars() {
        s.push(DIGITS[c.to_digit(10).unwrap_or(0) as usize]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_labels_are_compact() {
        let a = Axis::new(&[0.0, 0.9], false, 10);
        assert!(a.labels.iter().all(|l| l.len() <= 4), "{:?}", a.labels);
        assert!(a.labels.contains(&"0.3".to_string()), "{:?}", a.labels);
    }

    #[test]
    fn large_values_get_offset() {
        let a = Axis::new(&[0.0, 2.5e6], false, 5);
        assert_eq!(a.offset.as_deref(), Some("×10⁶"));
        assert!(a.labels.iter().all(|l| l.len() <= 4), "{:?}", a.labels);
    }

    #[test]
    fn log_decades() {
        let a = Axis::new(&[1e-6, 1e2], true, 5);
        assert!(a.labels.contains(&"10⁻⁴".to_string()), "{:?}", a.labels);
        let b = Axis::new(&[0.01, 100.0], true, 5);
        assert!(b.labels.contains(&"0.1".to_string()) && b.labels.contains(&"10".to_string()));
        let c = Axis::new(&[3.0, 7.0], true, 5);
        assert!(c.major.len() >= 2, "{:?}", c.major);
    }

    #[test]
    fn single_value_is_padded() {
        let a = Axis::new(&[5.0], false, 5);
        assert!(a.frac(5.0) > 0.4 && a.frac(5.0) < 0.6);
        assert!(!a.major.is_empty());
    }
}
