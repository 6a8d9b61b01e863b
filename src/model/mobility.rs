//! Where an agent is (SPEC 4.4): its distance to the access point at the
//! origin, evaluated analytically at any instant (no polling events).
//!
//! * `Static { distance_m }`: a fixed distance.
//! * `Waypoints { points, speed_mps, looped }`: straight legs between the
//!   points at constant speed, starting at the first point at t = 0. Not
//!   looped: the agent stays at the last point. Looped: it returns to the
//!   first point and starts over.
//! * `RandomWaypoint { area_m, speed_mps: (lo, hi), pause_s }`: the classic
//!   random waypoint model in the rectangle `[0, w] × [0, h]` shifted so the
//!   access point is at its centre. The agent starts at a uniform point and
//!   repeatedly draws a uniform destination and a uniform speed in
//!   `[lo, hi]`, travels there, then pauses `pause_s`. Legs are drawn lazily
//!   from the agent's own mobility stream. Over time its speed distribution
//!   drifts to the stationary law with density `∝ 1/v` on `[lo, hi]` (the
//!   speed-decay effect: slow legs last longer).

use crate::check;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Where an agent is, as written in a scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum Mobility {
    /// A fixed distance to the access point.
    Static {
        /// Distance, m.
        #[serde(deserialize_with = "check::positive")]
        distance_m: f64,
    },
    /// Straight legs between points at constant speed.
    Waypoints {
        /// Points `(x, y)`, m, the access point at the origin (at least one).
        points: Vec<(f64, f64)>,
        /// Speed, m/s.
        #[serde(deserialize_with = "check::positive")]
        speed_mps: f64,
        /// After the last point, go back to the first and start over.
        #[serde(default)]
        looped: bool,
    },
    /// Random waypoints in a rectangle centred on the access point.
    RandomWaypoint {
        /// Width and height of the area, m.
        area_m: (f64, f64),
        /// Speeds are drawn uniformly in `(lo, hi)`, m/s, `0 < lo <= hi`.
        speed_mps: (f64, f64),
        /// Pause at each waypoint, s (default 0).
        #[serde(default, deserialize_with = "check::non_negative")]
        pause_s: f64,
    },
}

impl Default for Mobility {
    fn default() -> Self {
        Mobility::Static { distance_m: 30.0 }
    }
}

/// Closest distance used for path loss, m (the formula diverges at 0).
pub const MIN_DISTANCE_M: f64 = 1.0;

impl Mobility {
    /// Cross-field checks: `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite() && x.abs() <= 1e7);
        match self {
            Mobility::Static { .. } => Ok(()),
            Mobility::Waypoints { points, .. } => {
                if points.is_empty() {
                    return Err((
                        "points".into(),
                        "empty list: expected at least one (x, y) point".into(),
                    ));
                }
                if !points.iter().all(|&(x, y)| finite(&[x, y])) {
                    return Err((
                        "points".into(),
                        "expected finite coordinates within ±1e7 m".into(),
                    ));
                }
                Ok(())
            }
            Mobility::RandomWaypoint {
                area_m: (w, h),
                speed_mps: (lo, hi),
                ..
            } => {
                if !(finite(&[*w, *h]) && *w > 0.0 && *h > 0.0) {
                    return Err((
                        "area_m".into(),
                        format!("invalid area ({w}, {h}): expected positive sides up to 1e7 m"),
                    ));
                }
                if !(lo.is_finite() && hi.is_finite() && *lo > 0.0 && lo <= hi) {
                    return Err((
                        "speed_mps".into(),
                        format!("invalid speeds ({lo}, {hi}): expected 0 < lo <= hi"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// The time-averaged distance over `[0, horizon_s]`, m, by the midpoint
    /// rule on 1000 steps (the static problem's distance); a random waypoint
    /// agent uses the mean distance of a uniform point of its area.
    pub fn mean_distance_m(&self, horizon_s: f64) -> f64 {
        match self {
            Mobility::Static { distance_m } => *distance_m,
            Mobility::Waypoints { .. } => {
                let steps = 1000;
                let mut t = Trajectory::new(self, None);
                (0..steps)
                    .map(|i| t.distance_m((i as f64 + 0.5) / steps as f64 * horizon_s))
                    .sum::<f64>()
                    / steps as f64
            }
            Mobility::RandomWaypoint { area_m: (w, h), .. } => {
                // Midpoint rule over the rectangle centred on the origin.
                let n = 100;
                let mut sum = 0.0;
                for i in 0..n {
                    for j in 0..n {
                        let x = ((i as f64 + 0.5) / n as f64 - 0.5) * w;
                        let y = ((j as f64 + 0.5) / n as f64 - 0.5) * h;
                        sum += x.hypot(y).max(MIN_DISTANCE_M);
                    }
                }
                sum / (n * n) as f64
            }
        }
    }
}

/// One leg: from `from` at `start` to `to` at `arrive`, then still until `end`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Leg {
    start: f64,
    arrive: f64,
    end: f64,
    from: (f64, f64),
    to: (f64, f64),
}

impl Leg {
    fn position(&self, t: f64) -> (f64, f64) {
        if t >= self.arrive || self.arrive <= self.start {
            return self.to;
        }
        let f = ((t - self.start) / (self.arrive - self.start)).clamp(0.0, 1.0);
        (
            self.from.0 + f * (self.to.0 - self.from.0),
            self.from.1 + f * (self.to.1 - self.from.1),
        )
    }

    fn speed(&self, t: f64) -> f64 {
        if t >= self.arrive || self.arrive <= self.start {
            return 0.0;
        }
        let (dx, dy) = (self.to.0 - self.from.0, self.to.1 - self.from.1);
        dx.hypot(dy) / (self.arrive - self.start)
    }
}

/// One agent's path during a run.
#[derive(Debug)]
pub struct Trajectory {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Static(f64),
    /// Legs of one pass through the points; `period` = its duration if looped.
    Waypoints {
        legs: Vec<Leg>,
        period: Option<f64>,
    },
    /// Legs drawn so far, and what draws the next ones.
    Random {
        legs: Vec<Leg>,
        area: (f64, f64),
        speed: (f64, f64),
        pause: f64,
        rng: Box<ChaCha8Rng>,
    },
}

impl Trajectory {
    /// The path of an agent moving by `m`; a random waypoint needs the
    /// agent's mobility stream `rng` (it is ignored otherwise).
    pub fn new(m: &Mobility, rng: Option<ChaCha8Rng>) -> Trajectory {
        let kind = match m {
            Mobility::Static { distance_m } => Kind::Static(*distance_m),
            Mobility::Waypoints {
                points,
                speed_mps,
                looped,
            } => waypoint_legs(points, *speed_mps, *looped),
            Mobility::RandomWaypoint {
                area_m,
                speed_mps,
                pause_s,
            } => {
                let mut rng = rng.expect("a random waypoint agent has a mobility stream");
                let start = uniform_point(&mut rng, *area_m);
                let first = Leg {
                    start: 0.0,
                    arrive: 0.0,
                    end: 0.0,
                    from: start,
                    to: start,
                };
                Kind::Random {
                    legs: vec![first],
                    area: *area_m,
                    speed: *speed_mps,
                    pause: *pause_s,
                    rng: Box::new(rng),
                }
            }
        };
        Trajectory { kind }
    }

    /// Position `(x, y)` at time `t` s (the access point at the origin;
    /// a static agent sits on the x axis).
    pub fn position(&mut self, t: f64) -> (f64, f64) {
        self.at(t, Leg::position)
    }

    /// Speed at time `t`, m/s.
    pub fn speed_mps(&mut self, t: f64) -> f64 {
        match &self.kind {
            Kind::Static(_) => 0.0,
            _ => self.at(t, Leg::speed),
        }
    }

    /// Distance to the access point at time `t`, m (at least [`MIN_DISTANCE_M`]).
    pub fn distance_m(&mut self, t: f64) -> f64 {
        match &self.kind {
            Kind::Static(d) => *d,
            _ => {
                let (x, y) = self.position(t);
                x.hypot(y).max(MIN_DISTANCE_M)
            }
        }
    }

    /// Whether the distance never changes.
    pub fn is_static(&self) -> bool {
        matches!(self.kind, Kind::Static(_))
    }

    fn at<T>(&mut self, t: f64, f: impl Fn(&Leg, f64) -> T) -> T {
        let t = t.max(0.0);
        match &mut self.kind {
            Kind::Static(d) => f(
                &Leg {
                    start: 0.0,
                    arrive: 0.0,
                    end: f64::INFINITY,
                    from: (*d, 0.0),
                    to: (*d, 0.0),
                },
                t,
            ),
            Kind::Waypoints { legs, period } => {
                let t = match period {
                    Some(p) if *p > 0.0 => t % *p,
                    _ => t,
                };
                let i = legs.partition_point(|l| l.end <= t).min(legs.len() - 1);
                f(&legs[i], t)
            }
            Kind::Random {
                legs,
                area,
                speed,
                pause,
                rng,
            } => {
                while legs.last().is_some_and(|l| l.end <= t) {
                    let last = *legs.last().expect("non-empty");
                    let leg = random_leg(rng, last.to, last.end, *area, *speed, *pause);
                    legs.push(leg);
                }
                let i = legs.partition_point(|l| l.end <= t);
                f(&legs[i], t)
            }
        }
    }
}

fn waypoint_legs(points: &[(f64, f64)], speed: f64, looped: bool) -> Kind {
    let mut stops: Vec<(f64, f64)> = points.to_vec();
    if looped {
        stops.push(points[0]);
    }
    let mut legs = Vec::new();
    let mut t = 0.0;
    for w in stops.windows(2) {
        let dt = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1) / speed;
        legs.push(Leg {
            start: t,
            arrive: t + dt,
            end: t + dt,
            from: w[0],
            to: w[1],
        });
        t += dt;
    }
    let last = *stops.last().expect("at least one point");
    // After the path (not looped): still at the last point forever.
    legs.push(Leg {
        start: t,
        arrive: t,
        end: f64::INFINITY,
        from: last,
        to: last,
    });
    Kind::Waypoints {
        legs,
        period: looped.then_some(t),
    }
}

fn uniform_point(rng: &mut ChaCha8Rng, (w, h): (f64, f64)) -> (f64, f64) {
    ((rng.gen::<f64>() - 0.5) * w, (rng.gen::<f64>() - 0.5) * h)
}

fn random_leg(
    rng: &mut ChaCha8Rng,
    from: (f64, f64),
    start: f64,
    area: (f64, f64),
    (lo, hi): (f64, f64),
    pause: f64,
) -> Leg {
    let to = uniform_point(rng, area);
    let v = lo + (hi - lo) * rng.gen::<f64>();
    let travel = (to.0 - from.0).hypot(to.1 - from.1) / v;
    Leg {
        start,
        arrive: start + travel,
        end: start + travel + pause,
        from,
        to,
    }
}
