//! Prometheus metrics, in its text format at `GET /metrics`: requests by route and status, HubRise
//! calls by operation and outcome with their latency, and callback verifications that failed.
//! Kept by hand (a few counters under a mutex): no dependency for so little. Labels are route
//! templates and fixed names only, never ids, tokens or codes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Latency buckets of HubRise calls, in seconds.
const BUCKETS: [f64; 8] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bucket, bound) in self.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    hubrise: Mutex<BTreeMap<(&'static str, &'static str), Histogram>>,
    callback_verifications_failed: AtomicU64,
    token_refusals: Mutex<BTreeMap<&'static str, u64>>,
    push_notifications: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn request(&self, method: &str, route: &str, status: u16) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
    }

    /// A HubRise call: `operation` (exchange, revoke, callback), `outcome` (ok, refused, error).
    pub fn hubrise_call(&self, operation: &'static str, outcome: &'static str, took: Duration) {
        if let Ok(mut calls) = self.hubrise.lock() {
            calls
                .entry((operation, outcome))
                .or_default()
                .observe(took.as_secs_f64());
        }
    }

    pub fn callback_verification_failed(&self) {
        self.callback_verifications_failed
            .fetch_add(1, Ordering::Relaxed);
    }

    /// A POS access token refused, by reason (`Refusal::reason`).
    pub fn token_refused(&self, reason: &'static str) {
        if let Ok(mut refusals) = self.token_refusals.lock() {
            *refusals.entry(reason).or_default() += 1;
        }
    }

    /// A background notification to a till, by outcome: `sent`, `gone` (the token removed),
    /// `failed`, `held` (within the device's interval: one more at its end).
    pub fn push_notification(&self, outcome: &'static str) {
        if let Ok(mut notifications) = self.push_notifications.lock() {
            *notifications.entry(outcome).or_default() += 1;
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP bridge_http_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE bridge_http_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for ((method, route, status), n) in requests.iter() {
                let _ = writeln!(
                    out,
                    "bridge_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    label(route)
                );
            }
        }
        out.push_str(
            "# HELP bridge_hubrise_call_seconds HubRise calls, by operation and outcome.\n",
        );
        out.push_str("# TYPE bridge_hubrise_call_seconds histogram\n");
        if let Ok(calls) = self.hubrise.lock() {
            for ((operation, outcome), h) in calls.iter() {
                let labels = format!("operation=\"{operation}\",outcome=\"{outcome}\"");
                for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                    let _ = writeln!(
                        out,
                        "bridge_hubrise_call_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                    );
                }
                let _ = writeln!(
                    out,
                    "bridge_hubrise_call_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(out, "bridge_hubrise_call_seconds_sum{{{labels}}} {}", h.sum);
                let _ = writeln!(
                    out,
                    "bridge_hubrise_call_seconds_count{{{labels}}} {}",
                    h.count
                );
            }
        }
        out.push_str("# HELP bridge_callback_verifications_failed_total Callbacks whose HMAC did not match.\n");
        out.push_str("# TYPE bridge_callback_verifications_failed_total counter\n");
        let _ = writeln!(
            out,
            "bridge_callback_verifications_failed_total {}",
            self.callback_verifications_failed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP bridge_token_refusals_total POS access tokens refused, by reason.\n");
        out.push_str("# TYPE bridge_token_refusals_total counter\n");
        if let Ok(refusals) = self.token_refusals.lock() {
            for (reason, n) in refusals.iter() {
                let _ = writeln!(
                    out,
                    "bridge_token_refusals_total{{reason=\"{reason}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP bridge_push_notifications_total Background notifications to tills, by outcome.\n",
        );
        out.push_str("# TYPE bridge_push_notifications_total counter\n");
        if let Ok(notifications) = self.push_notifications.lock() {
            for (outcome, n) in notifications.iter() {
                let _ = writeln!(
                    out,
                    "bridge_push_notifications_total{{outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out
    }
}

/// A label value with Prometheus's escapes.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_in_the_text_format() {
        let metrics = Metrics::default();
        metrics.request("GET", "/hubrise/configuration", 304);
        metrics.request("GET", "/hubrise/configuration", 304);
        metrics.hubrise_call("exchange", "ok", Duration::from_millis(120));
        metrics.callback_verification_failed();
        metrics.token_refused("wrong_audience");
        metrics.push_notification("sent");
        let text = metrics.render();
        assert!(text.contains("bridge_http_requests_total{method=\"GET\",route=\"/hubrise/configuration\",status=\"304\"} 2"));
        assert!(text.contains(
            "bridge_hubrise_call_seconds_bucket{operation=\"exchange\",outcome=\"ok\",le=\"0.1\"} 0"
        ));
        assert!(text.contains("bridge_hubrise_call_seconds_bucket{operation=\"exchange\",outcome=\"ok\",le=\"0.25\"} 1"));
        assert!(text.contains(
            "bridge_hubrise_call_seconds_count{operation=\"exchange\",outcome=\"ok\"} 1"
        ));
        assert!(text.contains("bridge_callback_verifications_failed_total 1"));
        assert!(text.contains("bridge_token_refusals_total{reason=\"wrong_audience\"} 1"));
        assert!(text.contains("bridge_push_notifications_total{outcome=\"sent\"} 1"));
    }
}
