//! Server-rendered SVG charts (no chart library, no script): a step line of a balance over
//! time and daily volume bars (money in above the axis, money out below). Colours come from
//! the stylesheet, so they follow the light / dark theme.

use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};

use crate::domain::money::group_thousands;

const W: f64 = 640.0;
const H: f64 = 200.0;
const PAD_L: f64 = 56.0;
const PAD_B: f64 = 22.0;
const PAD_T: f64 = 10.0;

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// A balance over time: `points` are (when, balance after), oldest first.
pub fn balance_line(points: &[(DateTime<Utc>, i64)], label: &str) -> Markup {
    if points.len() < 2 {
        return html! { p.muted { "Not enough history for a chart yet." } };
    }
    let (t0, t1) = (
        points[0].0.timestamp(),
        points[points.len() - 1].0.timestamp(),
    );
    let span = (t1 - t0).max(1) as f64;
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let x = |t: i64| PAD_L + (t - t0) as f64 / span * (W - PAD_L - 8.0);
    let y = |v: i64| PAD_T + (1.0 - v as f64 / max) * (H - PAD_T - PAD_B);
    let mut d = format!("M{} {}", fmt(x(t0)), fmt(y(points[0].1)));
    for (t, v) in &points[1..] {
        // A step: the balance holds until the next entry.
        d.push_str(&format!(" H{} V{}", fmt(x(t.timestamp())), fmt(y(*v))));
    }
    html! {
        svg.chart viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(label) {
            title { (label) }
            line.axis x1=(PAD_L) y1=(fmt(H - PAD_B)) x2=(W) y2=(fmt(H - PAD_B)) {}
            line.axis x1=(PAD_L) y1=(PAD_T) x2=(PAD_L) y2=(fmt(H - PAD_B)) {}
            text x="4" y=(fmt(PAD_T + 10.0)) { (group_thousands(max as i64)) }
            text x="4" y=(fmt(H - PAD_B)) { "0" }
            text x=(PAD_L) y=(fmt(H - 6.0)) { (points[0].0.format("%Y-%m-%d")) }
            text x=(fmt(W - 70.0)) y=(fmt(H - 6.0)) { (points[points.len() - 1].0.format("%Y-%m-%d")) }
            path.line d=(d) {}
        }
    }
}

/// Daily volume: `days` are (day, money in, money out as a positive number), oldest first.
pub fn daily_bars(days: &[(NaiveDate, i64, i64)], label: &str) -> Markup {
    if days.is_empty() {
        return html! { p.muted { "No transactions in this period." } };
    }
    let max = days.iter().map(|d| d.1.max(d.2)).max().unwrap_or(0).max(1) as f64;
    let mid = PAD_T + (H - PAD_T - PAD_B) / 2.0;
    let half = (H - PAD_T - PAD_B) / 2.0;
    let slot = (W - PAD_L - 8.0) / days.len() as f64;
    let bw = (slot * 0.7).max(1.0);
    html! {
        svg.chart viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(label) {
            title { (label) }
            line.axis x1=(PAD_L) y1=(fmt(mid)) x2=(W) y2=(fmt(mid)) {}
            text x="4" y=(fmt(PAD_T + 10.0)) { "+" (group_thousands(max as i64)) }
            text x="4" y=(fmt(H - PAD_B)) { "-" (group_thousands(max as i64)) }
            text x=(PAD_L) y=(fmt(H - 6.0)) { (days[0].0.format("%Y-%m-%d")) }
            text x=(fmt(W - 70.0)) y=(fmt(H - 6.0)) { (days[days.len() - 1].0.format("%Y-%m-%d")) }
            @for (i, (day, inn, out)) in days.iter().enumerate() {
                @let x = PAD_L + i as f64 * slot + (slot - bw) / 2.0;
                @let hi = *inn as f64 / max * half;
                @let ho = *out as f64 / max * half;
                rect.bar x=(fmt(x)) y=(fmt(mid - hi)) width=(fmt(bw)) height=(fmt(hi)) {
                    title { (day) ": +" (group_thousands(*inn)) }
                }
                rect.bar.out x=(fmt(x)) y=(fmt(mid)) width=(fmt(bw)) height=(fmt(ho)) {
                    title { (day) ": -" (group_thousands(*out)) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_balance_line_steps_through_every_point() {
        let t = |h| Utc.with_ymd_and_hms(2026, 3, 1, h, 0, 0).unwrap();
        let svg = balance_line(&[(t(0), 0), (t(1), 100), (t(2), 50)], "Balance").into_string();
        assert!(svg.starts_with("<svg class=\"chart\""), "{svg}");
        assert_eq!(svg.matches(" H").count(), 2, "{svg}");
        assert!(svg.contains("100"));
        assert!(balance_line(&[(t(0), 5)], "x")
            .into_string()
            .contains("Not enough"));
    }

    #[test]
    fn daily_bars_draw_in_and_out_for_each_day() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let svg =
            daily_bars(&[(d, 300, 100), (d.succ_opt().unwrap(), 0, 50)], "Volume").into_string();
        assert_eq!(svg.matches("<rect").count(), 4, "{svg}");
        assert!(svg.contains("2026-03-01: +300"));
    }
}
