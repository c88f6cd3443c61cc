//! Charts drawn on the server as SVG: no script, readable by screen readers (`<title>`,
//! `<desc>`, and the same numbers as a table).

use crate::models::overview::DailySignups;
use leptos::prelude::*;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 36.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

/// Sign-ups per day as bars, with the values as a table under a disclosure.
#[component]
pub fn SignupChart(signups: Vec<DailySignups>) -> impl IntoView {
    let total: u64 = signups.iter().map(|day| day.count).sum();
    let max = signups.iter().map(|day| day.count).max().unwrap_or(0);
    let busiest = signups
        .iter()
        .max_by_key(|day| day.count)
        .filter(|day| day.count > 0)
        .map(|day| {
            format!(
                " The busiest day was {} with {}.",
                day_label(day),
                day.count
            )
        })
        .unwrap_or_default();
    let description = format!(
        "{total} sign-ups over the last {} days.{busiest}",
        signups.len()
    );
    let scale_max = max.max(1) as f64;
    let plot_width = WIDTH - LEFT - 8.0;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = plot_width / signups.len().max(1) as f64;
    let bars = signups
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let height = day.count as f64 / scale_max * plot_height;
            let x = LEFT + i as f64 * slot + slot * 0.15;
            let y = TOP + plot_height - height;
            let label = format!("{}: {}", day_label(day), day.count);
            // Every fifth day gets a date under the axis, the last one always.
            let tick = (i % 5 == 0 || i + 1 == signups.len()).then(|| {
                let cx = format!("{:.1}", x + slot * 0.35);
                view! {
                    <text x=cx y=format!("{:.1}", HEIGHT - 10.0) text-anchor="middle">{day_label(day)}</text>
                }
            });
            view! {
                <rect class="bar" x=format!("{x:.1}") y=format!("{y:.1}")
                    width=format!("{:.1}", slot * 0.7) height=format!("{height:.1}")>
                    <title>{label}</title>
                </rect>
                {tick}
            }
        })
        .collect_view();
    let rows = signups
        .iter()
        .map(|day| {
            view! { <tr><td>{day_label(day)}</td><td>{day.count}</td></tr> }
        })
        .collect_view();
    let axis_y = format!("{:.1}", TOP + plot_height);
    view! {
        <figure class="chart-figure">
            <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
                aria-labelledby="signups-title signups-desc">
                <title id="signups-title">"Sign-ups per day, last 30 days"</title>
                <desc id="signups-desc">{description.clone()}</desc>
                <line class="axis" x1=LEFT.to_string() y1=axis_y.clone() x2=(WIDTH - 8.0).to_string() y2=axis_y/>
                <text x=(LEFT - 6.0).to_string() y=(TOP + 4.0).to_string() text-anchor="end">{max}</text>
                <text x=(LEFT - 6.0).to_string() y=format!("{:.1}", TOP + plot_height) text-anchor="end">"0"</text>
                {bars}
            </svg>
            <figcaption class="muted">{description}</figcaption>
            <details>
                <summary>"Show the numbers as a table"</summary>
                <table>
                    <thead><tr><th scope="col">"Day (UTC)"</th><th scope="col">"Sign-ups"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

/// "Nov 25".
fn day_label(day: &DailySignups) -> String {
    let month = match u8::from(day.day.month()) {
        1 => "Jan",
        2 => "Feb",
        3 => "Mar",
        4 => "Apr",
        5 => "May",
        6 => "Jun",
        7 => "Jul",
        8 => "Aug",
        9 => "Sep",
        10 => "Oct",
        11 => "Nov",
        _ => "Dec",
    };
    format!("{month} {}", day.day.day())
}
