//! Apps with `/metrics` on, and reading values out of what it renders.

use super::app::{spawn_app_with, AppOptions, TestApp};

/// The bearer token of [`spawn_app_with_metrics`]'s apps.
pub const METRICS_TOKEN: &str = "metrics-token-for-tests-0123456789";

/// An app serving `/metrics` on its main listener for `Bearer METRICS_TOKEN`.
pub async fn spawn_app_with_metrics() -> TestApp {
    spawn_app_with(AppOptions {
        env: vec![("METRICS_TOKEN", METRICS_TOKEN.to_owned())],
        ..Default::default()
    })
    .await
}

impl TestApp {
    /// `GET /metrics` with the token, which must answer 200; the text.
    pub async fn scrape(&self) -> String {
        let response = self
            .client
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("the metrics request");
        assert_eq!(response.status(), 200, "GET /metrics");
        response.text().await.expect("the metrics text")
    }
}

/// The value of the sample `name{labels…}` (labels in any order, others allowed), 0 when the
/// text has no such sample.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let pairs: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}=\"{value}\""))
        .collect();
    let mut found = None;
    for line in text.lines() {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (series_name, series_labels) = match series.split_once('{') {
            Some((series_name, rest)) => (series_name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let series_pairs: Vec<&str> = series_labels.split(',').collect();
        if series_name == name
            && pairs
                .iter()
                .all(|pair| series_pairs.contains(&pair.as_str()))
        {
            let value: f64 = value.parse().expect("a sample's value is a number");
            *found.get_or_insert(0.0) += value;
        }
    }
    found.unwrap_or(0.0)
}
