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
    Cut { hint: bool },
    Kill,
    Poison,
    Hold,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    pub(crate) at: Duration,
    pub(crate) kind: AnchorKind,
}

/// When the fixed faults happen: the cuts at 30 % and 68 % of the service, the poisons spread
/// over it, the kills at random moments away from the cuts and from each other.
pub(crate) fn plan(options: &Options, rng: &mut Rng) -> Vec<Anchor> {
    let total = options.duration().as_secs_f64();
    let cut = options.cut_secs as f64;
    let cuts = [(0.30 * total, true), (0.68 * total, false)];
    let quiet = |t: f64| {
        cuts.iter()
            .any(|(start, _)| t > start - 15.0 && t < start + cut + 15.0)
    };
    let mut anchors: Vec<Anchor> = cuts
        .iter()
        .map(|&(start, hint)| Anchor {
            at: Duration::from_secs_f64(start),
            kind: AnchorKind::Cut { hint },
        })
        .collect();
    let spread = |count: usize, offset: f64, kind: AnchorKind, anchors: &mut Vec<Anchor>| {
        for i in 0..count {
            let mut t = total * (0.05 + offset + 0.8 * (i as f64 + 0.5) / count as f64);
            while quiet(t) {
                t += 5.0;
            }
            if t < total - 60.0 {
                anchors.push(Anchor {
                    at: Duration::from_secs_f64(t),
                    kind,
                });
            }
        }
    };
    spread(options.poison, 0.0, AnchorKind::Poison, &mut anchors);
    spread(options.poison_patches, 0.04, AnchorKind::Hold, &mut anchors);
    let mut kills: Vec<f64> = Vec::new();
    for _ in 0..10_000 {
        if kills.len() == options.kills {
            break;
        }
        let t = total * (0.08 + 0.86 * rng.unit());
        let near = |other: f64, gap: f64| (t - other).abs() < gap;
        if quiet(t)
            || kills.iter().any(|&k| near(k, 40.0))
            || anchors.iter().any(|a| near(a.at.as_secs_f64(), 12.0))
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
