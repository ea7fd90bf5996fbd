//! The random plan: a reproducible generator (`--seed`) and when the fixed episodes happen (the
//! two network cuts, the kills, the poison orders and changes); the transient faults between them
//! are drawn in `faults::transient`.

use std::time::Duration;

use crate::options::Options;

/// xorshift64*: reproducible runs from `--seed`, no dependency.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.range(0, i as u64)).unwrap_or(0);
            items.swap(i, j);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnchorKind {
    Cut {
        hint: bool,
    },
    Kill,
    Poison,
    Hold,
    /// The orders route down for `--outage-secs` (issue 27, scenario 1).
    Outage,
    /// `429 Retry-After: 0` on every API path for `--rate-zero-secs` (scenario 4).
    RateZero,
    /// A sibling till accepts while this one's automatic `received` fails (scenario 3).
    Sibling,
    /// The wall clock set forward an hour, then back (scenario 6).
    Clock,
    /// The secret store slow for Paris's token (scenario 9).
    SlowStore,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    pub(crate) at: Duration,
    pub(crate) kind: AnchorKind,
}

/// When the fixed faults happen: the orders route's outage at 22 % of the service, the cuts at
/// 62 % and 82 %, the other episodes spread over the time left between them (starting 15 s after
/// one and ending 15 s before the next), the kills at random moments there, 30 s from each other and 6 s from other episodes.
/// Episodes run one at a time: one that comes due while another runs waits for it.
pub(crate) fn plan(options: &Options, rng: &mut Rng) -> Vec<Anchor> {
    let total = options.duration().as_secs_f64();
    let cut = options.cut_secs as f64;
    let outage = options.outage_secs as f64;
    let long = [
        (0.22 * total, outage, AnchorKind::Outage),
        (0.62 * total, cut, AnchorKind::Cut { hint: true }),
        (0.82 * total, cut, AnchorKind::Cut { hint: false }),
    ];
    let mut anchors: Vec<Anchor> = long
        .iter()
        .map(|&(at, _, kind)| Anchor {
            at: Duration::from_secs_f64(at),
            kind,
        })
        .collect();
    // The time left for the other episodes: from 4 % of the service to a minute before its end,
    // 15 s away from the long episodes, and ended 15 s before the next one starts (the clock's
    // episode lasts 40 s: one that began 15 s before a cut ran into it, and the order placed at
    // its end was measured across the cut).
    let longest = (2 * options.clock_secs)
        .max(options.slow_secs)
        .max(options.rate_zero_secs) as f64;
    let mut free: Vec<(f64, f64)> = Vec::new();
    let mut from = 0.04 * total;
    for &(at, length, _) in &long {
        if at - 15.0 - longest > from {
            free.push((from, at - 15.0 - longest));
        }
        from = from.max(at + length + 15.0);
    }
    if total - 60.0 - longest > from {
        free.push((from, total - 60.0 - longest));
    }
    let free_total: f64 = free.iter().map(|(a, b)| b - a).sum();
    // A fraction of the free time → the moment it falls on.
    let at_fraction = |u: f64| {
        let mut left = u.clamp(0.0, 0.999) * free_total;
        for &(a, b) in &free {
            if left < b - a {
                return a + left;
            }
            left -= b - a;
        }
        free.last().map_or(0.0, |&(_, b)| b)
    };
    let spread = |count: usize, offset: f64, kind: AnchorKind, anchors: &mut Vec<Anchor>| {
        for i in 0..count {
            let u = (offset + (i as f64 + 0.5) / count as f64).fract();
            anchors.push(Anchor {
                at: Duration::from_secs_f64(at_fraction(u)),
                kind,
            });
        }
    };
    spread(options.poison, 0.0, AnchorKind::Poison, &mut anchors);
    spread(options.poison_patches, 0.05, AnchorKind::Hold, &mut anchors);
    spread(options.rate_zero, 0.11, AnchorKind::RateZero, &mut anchors);
    spread(options.siblings, 0.17, AnchorKind::Sibling, &mut anchors);
    spread(1, 0.03, AnchorKind::Clock, &mut anchors);
    spread(1, 0.33, AnchorKind::SlowStore, &mut anchors);
    let mut kills: Vec<f64> = Vec::new();
    for _ in 0..10_000 {
        if kills.len() == options.kills {
            break;
        }
        let t = at_fraction(rng.unit());
        let near = |other: f64, gap: f64| (t - other).abs() < gap;
        if kills.iter().any(|&k| near(k, 30.0))
            || anchors.iter().any(|a| near(a.at.as_secs_f64(), 6.0))
        {
            continue;
        }
        kills.push(t);
    }
    anchors.extend(kills.into_iter().map(|t| Anchor {
        at: Duration::from_secs_f64(t),
        kind: AnchorKind::Kill,
    }));
    anchors.sort_by_key(|a| a.at);
    anchors
}
