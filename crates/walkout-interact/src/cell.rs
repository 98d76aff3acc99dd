//! How a shelf level's load cell answers hands: telling two takers a moment apart from one
//! taking several items at once, and a put-back from a pick merged with it, by the shape of
//! the readings.
//!
//! A hand taking from a level presses on it for a moment (the weight bumps up) while the item
//! leaves it (the weight falls to its new level along the cell's first-order step response).
//! Two takers 0.1-0.7 s apart give two presses and two steps; their readings merge into one
//! change (the weight never settles between them) and the second press is hidden in the first
//! one's fall, so peaks and troughs alone do not show it; nor do they an item put back and
//! another taken a moment later (the weight rises and falls again, perhaps to where it was).
//! Fitting the readings with one contact and with two does: one taker's readings fit one
//! contact to the cell's noise, two takers' leave one contact 5 to thousands of times the
//! residual of two (see [`CellModel::two_contacts_ratio`]), and two contacts moving the weight
//! opposite ways tell the item put back from those taken.

/// The load cell's response to one hand contact, calibrated per store (the defaults are this
/// project's shelves').
#[derive(Debug, Clone, PartialEq)]
pub struct CellModel {
    /// An item's weight leaves (or joins) the level along `1 - exp(-t / settle_tau_s)` from
    /// when the hand lets go of the shelf's share of it, seconds.
    pub settle_tau_s: f64,
    /// A hand presses on the level for this long, as a half sine, seconds ...
    pub press_s: f64,
    /// ... beginning this long before the item's weight starts to leave, seconds.
    pub press_lead_s: f64,
    /// Two contacts explain the readings only when one leaves at least this many times their
    /// residual (measured over 849 multi-unit picks of the sample store's sim: one taker's
    /// readings 0.1-3 times, one in 830 at 4.9; two takers 0.1 s apart 5-15 times, 0.2-0.7 s
    /// apart 50-3200 times; two in the same reading 1.2-1.5 times, never told apart).
    pub two_contacts_ratio: f64,
}

impl Default for CellModel {
    fn default() -> Self {
        CellModel {
            settle_tau_s: 0.8 / 3.0,
            press_s: 0.6,
            press_lead_s: 0.2,
            two_contacts_ratio: 4.0,
        }
    }
}

/// Two hand contacts found in one change's readings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoContacts {
    /// When each contact began (its press), seconds.
    pub starts: [f64; 2],
    /// The weight each moved, kg.
    pub steps: [f64; 2],
}

/// What one change's readings say of the hand contacts that made it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Contacts {
    /// One contact fits them to within the cell's noise: one hand moved it all (or two at the
    /// very same moment, which no load cell tells apart).
    One,
    /// Two contacts fit them far better than one.
    Two(TwoContacts),
}

/// Search grid over contact starts, seconds.
const GRID_S: f64 = 0.02;
/// One contact fits a change's readings when it leaves at most this many times the residual
/// of the cell's noise (a chi-square far in its tail for the 15-30 readings of a change).
const ONE_CONTACT_NOISE: f64 = 4.0;

impl CellModel {
    /// Readings `(time, kg)` of one change (from a little before it began until it settled):
    /// two hand contacts, each moving the weight either way (two takers, or an item put back
    /// and another taken), where they explain them far better than one; else one contact
    /// where that fits them to within
    /// `noise_kg` per reading (a cell's noise is below it); else nothing is told. `first` is
    /// when the weight first left its level (the first contact's press begins around then).
    pub fn contacts(&self, readings: &[(f64, f64)], first: f64, noise_kg: f64) -> Option<Contacts> {
        let (t_end, n) = (readings.last()?.0, readings.len());
        if n < 8 {
            return None;
        }
        let noise = n as f64 * noise_kg * noise_kg;
        // Two contacts' presses begin at least a reading apart (closer ones are not told
        // apart: the fit puts the second between readings wherever it fits the noise best).
        let mut gaps: Vec<f64> = readings.windows(2).map(|p| p[1].0 - p[0].0).collect();
        gaps.sort_by(f64::total_cmp);
        let apart = gaps[gaps.len() / 2] * 0.99;
        let firsts = grid(first - 0.4, first + 0.3);
        let one = firsts
            .iter()
            .filter_map(|&s| self.fit(readings, &[s]))
            .map(|f| f.sse)
            .fold(f64::INFINITY, f64::min);
        if !one.is_finite() {
            return None;
        }
        if one < noise {
            return Some(Contacts::One);
        }
        let mut best: Option<Fit> = None;
        for &s1 in &firsts {
            for s2 in grid(s1 + apart, t_end - self.press_s / 2.0) {
                if let Some(f) = self.fit(readings, &[s1, s2])
                    && best.as_ref().is_none_or(|b| f.sse < b.sse)
                {
                    best = Some(f);
                }
            }
        }
        // Two contacts moving it opposite ways must also fit the readings to the cell's noise,
        // and begin at least the cell's time constant apart: closer, a large step and a
        // slightly smaller one back mimic a cell answering faster than this one (readings of
        // an instant step fit them to nothing, in whole numbers of any light item).
        let opposite = best.as_ref().is_some_and(|b| b.steps[0] * b.steps[1] < 0.0);
        if let Some(best) = best
            && one > self.two_contacts_ratio * best.sse
            && (!opposite
                || best.sse <= ONE_CONTACT_NOISE * noise
                    && best.starts[1] - best.starts[0] >= self.settle_tau_s)
        {
            return Some(Contacts::Two(TwoContacts {
                starts: best.starts,
                steps: best.steps,
            }));
        }
        (one <= ONE_CONTACT_NOISE * noise).then_some(Contacts::One)
    }

    /// The weight's response at `t` to a contact beginning at `s`: (step, press), each of unit
    /// size.
    fn response(&self, t: f64, s: f64) -> (f64, f64) {
        let leave = s + self.press_lead_s;
        let step = if t >= leave {
            1.0 - (-(t - leave) / self.settle_tau_s).exp()
        } else {
            0.0
        };
        let c = (t - s) / self.press_s;
        let press = if (0.0..1.0).contains(&c) {
            (std::f64::consts::PI * c).sin()
        } else {
            0.0
        };
        (step, press)
    }

    /// Least squares of the readings against a level plus, per contact, a step and a press
    /// (presses push down: a fit needing a negative one is no fit).
    fn fit(&self, readings: &[(f64, f64)], starts: &[f64]) -> Option<Fit> {
        let k = 1 + 2 * starts.len();
        let row = |t: f64| {
            let mut r = [0.0; 5];
            r[0] = 1.0;
            for (i, &s) in starts.iter().enumerate() {
                (r[1 + 2 * i], r[2 + 2 * i]) = self.response(t, s);
            }
            r
        };
        let mut a = [[0.0; 5]; 5];
        let mut b = [0.0; 5];
        for &(t, w) in readings {
            let r = row(t);
            for i in 0..k {
                for j in 0..k {
                    a[i][j] += r[i] * r[j];
                }
                b[i] += r[i] * w;
            }
        }
        let x = solve(a, b, k)?;
        if (0..starts.len()).any(|i| x[2 + 2 * i] < 0.0) {
            return None;
        }
        let sse = readings
            .iter()
            .map(|&(t, w)| {
                let r = row(t);
                let m: f64 = (0..k).map(|i| r[i] * x[i]).sum();
                (w - m) * (w - m)
            })
            .sum();
        let mut f = Fit {
            sse,
            starts: [0.0; 2],
            steps: [0.0; 2],
        };
        for (i, &s) in starts.iter().enumerate().take(2) {
            f.starts[i] = s;
            f.steps[i] = x[1 + 2 * i];
        }
        Some(f)
    }
}

struct Fit {
    sse: f64,
    starts: [f64; 2],
    steps: [f64; 2],
}

fn grid(from: f64, to: f64) -> Vec<f64> {
    let n = ((to - from) / GRID_S).floor();
    if n.is_nan() || n < 0.0 {
        return Vec::new();
    }
    (0..=n as usize).map(|i| from + i as f64 * GRID_S).collect()
}

/// Solves the first `k` rows and columns of `a x = b` by Gaussian elimination with partial
/// pivoting; `None` when singular (a contact whose response is all zero over the readings).
fn solve(mut a: [[f64; 5]; 5], mut b: [f64; 5], k: usize) -> Option<[f64; 5]> {
    for c in 0..k {
        let p = (c..k).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-9 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..k {
            let f = a[r][c] / a[c][c];
            for j in c..k {
                a[r][j] -= f * a[c][j];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0; 5];
    for c in (0..k).rev() {
        let s: f64 = (c + 1..k).map(|j| a[c][j] * x[j]).sum();
        x[c] = (b[c] - s) / a[c][c];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Readings at 10 Hz of contacts `(start, step kg, press kg)` on a 20 kg level, with a
    /// deterministic +-`noise` wobble.
    fn readings(m: &CellModel, contacts: &[(f64, f64, f64)], noise: f64) -> Vec<(f64, f64)> {
        (0..30)
            .map(|i| {
                let t = 10.0 + 0.1 * f64::from(i);
                let mut w = 20.0 + noise * ((i * 7919 % 13) as f64 / 6.0 - 1.0);
                for &(s, d, c) in contacts {
                    let (step, press) = m.response(t, s);
                    w += d * step + c * press;
                }
                (t, w)
            })
            .collect()
    }

    #[test]
    fn two_takers_a_moment_apart_are_two_contacts_one_taking_two_is_one() {
        let m = CellModel::default();
        for apart in [0.1, 0.2, 0.3, 0.5] {
            let r = readings(&m, &[(10.5, -0.34, 0.3), (10.5 + apart, -0.34, 0.2)], 0.003);
            let Some(Contacts::Two(two)) = m.contacts(&r, 10.6, 0.0025) else {
                panic!("{apart} s apart: not found");
            };
            assert!(
                (two.starts[1] - (10.5 + apart)).abs() < 0.05,
                "{apart}: {two:?}"
            );
            for s in two.steps {
                assert!((s + 0.34).abs() < 0.1, "{apart}: {two:?}");
            }
        }
        for press in [0.1, 0.3, 0.5] {
            let r = readings(&m, &[(10.5, -0.68, press)], 0.003);
            assert_eq!(
                m.contacts(&r, 10.6, 0.0025),
                Some(Contacts::One),
                "press {press}"
            );
        }
    }

    #[test]
    fn an_exact_fit_of_one_contact_is_one_and_a_put_back_merged_with_a_pick_is_two() {
        let m = CellModel::default();
        let r = readings(&m, &[(10.5, -0.68, 0.3)], 0.0);
        assert_eq!(m.contacts(&r, 10.6, 0.0025), Some(Contacts::One));
        assert_eq!(m.contacts(&r[..5], 10.2, 0.0025), None, "too few readings");
        // An item put back and two taken 0.4 s later (the weight ends one item lighter), and
        // one put back and one taken (no net change): two contacts, moving it opposite ways.
        for (back, taken) in [(0.34, -0.68), (0.34, -0.34), (0.68, -0.34)] {
            let r = readings(&m, &[(10.5, back, 0.3), (10.9, taken, 0.2)], 0.003);
            let Some(Contacts::Two(two)) = m.contacts(&r, 10.6, 0.0025) else {
                panic!("{back} back, {taken} taken: not found");
            };
            assert!((two.starts[1] - 10.9).abs() < 0.05, "{two:?}");
            assert!((two.steps[0] - back).abs() < 0.1, "{two:?}");
            assert!((two.steps[1] - taken).abs() < 0.1, "{two:?}");
        }
        // An instant step (a cell answering faster than this model): a large step and a
        // smaller one back a reading later would fit it exactly; it is no two contacts.
        let r: Vec<(f64, f64)> = (0..30)
            .map(|i| {
                let t = 10.0 + 0.1 * f64::from(i);
                (t, if t >= 10.7 { 20.42 } else { 20.0 })
            })
            .collect();
        assert!(
            !matches!(m.contacts(&r, 10.7, 0.0025), Some(Contacts::Two(_))),
            "{:?}",
            m.contacts(&r, 10.7, 0.0025)
        );
    }
}
