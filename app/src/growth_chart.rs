//! The growth chart: WHO percentile curves for one indicator and sex, with the infant's
//! measurements as points. The server computes the curves from the WHO tables; this component
//! only scales and draws them, so it needs no tables in the browser.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Width and height of the drawing in SVG units; the image scales to its container.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 400.0;
/// Space for the axis labels on the left and bottom, and for curve labels on the right.
const LEFT: f64 = 56.0;
const RIGHT: f64 = 48.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;

/// One WHO percentile curve as (age in days, measurement) points, oldest age first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartCurve {
    /// The percentile, such as 3, 15, 50, 85 or 97.
    pub percentile: u8,
    pub points: Vec<(f64, f64)>,
}

/// One measurement of the infant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    pub age_days: f64,
    pub value: f64,
    /// The measurement date as shown to the reader.
    pub date: String,
    /// z-score and percentile already formatted, such as "-1.24" and "10.7".
    pub z_score: String,
    pub percentile: String,
}

/// Everything the chart draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthChartData {
    /// Title such as "Weight-for-age, girls".
    pub title: String,
    /// Unit of the measurements, such as "kg".
    pub unit: String,
    pub curves: Vec<ChartCurve>,
    pub points: Vec<ChartPoint>,
}

/// Maps data values to SVG coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    min_day: f64,
    max_day: f64,
    min_value: f64,
    max_value: f64,
}

impl Scale {
    /// Fits the curves and points, with a little headroom above and below.
    fn fit(data: &GrowthChartData) -> Option<Self> {
        let days = data
            .curves
            .iter()
            .flat_map(|curve| curve.points.iter().map(|point| point.0))
            .chain(data.points.iter().map(|point| point.age_days));
        let values = data
            .curves
            .iter()
            .flat_map(|curve| curve.points.iter().map(|point| point.1))
            .chain(data.points.iter().map(|point| point.value));
        let (min_day, max_day) = bounds(days)?;
        let (min_value, max_value) = bounds(values)?;
        let headroom = ((max_value - min_value) * 0.05).max(0.1);
        Some(Self {
            min_day,
            max_day: if max_day > min_day {
                max_day
            } else {
                min_day + 1.0
            },
            min_value: (min_value - headroom).max(0.0),
            max_value: max_value + headroom,
        })
    }

    fn x(&self, day: f64) -> f64 {
        LEFT + (day - self.min_day) / (self.max_day - self.min_day) * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, value: f64) -> f64 {
        HEIGHT
            - BOTTOM
            - (value - self.min_value) / (self.max_value - self.min_value) * (HEIGHT - TOP - BOTTOM)
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|value| value.is_finite())
        .fold(None, |range, value| match range {
            None => Some((value, value)),
            Some((low, high)) => Some((f64::min(low, value), f64::max(high, value))),
        })
}

/// Chooses about five round tick values between `low` and `high`.
fn ticks(low: f64, high: f64) -> Vec<f64> {
    let span = high - low;
    if span <= 0.0 || !span.is_finite() {
        return vec![low];
    }
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|factor| factor * magnitude)
        .find(|step| span / step <= 6.0)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).ceil() * step;
    (0..)
        .map(|index| first + f64::from(index) * step)
        .take_while(|tick| *tick <= high + step * 1e-9)
        .collect()
}

/// Formats an age in days as weeks below 13 weeks and months after, for axis labels.
fn age_label(day: f64) -> String {
    if day < 91.0 {
        format!("{} wk", (day / 7.0).round())
    } else {
        format!("{} mo", (day / 30.4375).round())
    }
}

/// Formats a tick value with as many decimals as its step needs.
fn value_label(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

fn polyline(scale: &Scale, points: &[(f64, f64)]) -> String {
    svg_points(
        points
            .iter()
            .map(|(day, value)| (scale.x(*day), scale.y(*value))),
    )
}

/// Writes SVG coordinates as "x,y x,y …", each to one decimal. A chart page contains a few
/// thousand of them, and float formatting took a tenth of its server time in a profile, so they
/// are written as whole tenths.
pub fn svg_points(points: impl Iterator<Item = (f64, f64)>) -> String {
    let mut text = String::with_capacity(points.size_hint().0 * 12);
    for (index, (x, y)) in points.enumerate() {
        if index > 0 {
            text.push(' ');
        }
        push_tenths(&mut text, x);
        text.push(',');
        push_tenths(&mut text, y);
    }
    text
}

/// Formats one SVG coordinate to one decimal, as `svg_points` does.
pub fn svg_number(value: f64) -> String {
    let mut text = String::new();
    push_tenths(&mut text, value);
    text
}

fn push_tenths(text: &mut String, value: f64) {
    if !value.is_finite() {
        text.push('0');
        return;
    }
    // Coordinates stay within a few thousand units, far inside i64.
    let tenths = (value * 10.0).round() as i64;
    if tenths < 0 {
        text.push('-');
    }
    let tenths = tenths.unsigned_abs();
    // Digits are written by hand: `write!` showed in the chart's profile.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut whole = tenths / 10;
    loop {
        start -= 1;
        digits[start] = b'0' + (whole % 10) as u8;
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    for digit in &digits[start..] {
        text.push(char::from(*digit));
    }
    text.push('.');
    text.push(char::from(b'0' + (tenths % 10) as u8));
}

/// Draws the chart with a text summary for screen readers and a table of the measurements.
#[component]
pub fn GrowthChart(data: GrowthChartData) -> impl IntoView {
    let Some(scale) = Scale::fit(&data) else {
        return view! { <p class="muted">"No growth measurements yet."</p> }.into_any();
    };
    let day_ticks: Vec<f64> = ticks(scale.min_day, scale.max_day)
        .into_iter()
        .map(|day| (day / 7.0).round() * 7.0)
        .collect();
    let value_ticks = ticks(scale.min_value, scale.max_value);
    let description = match data.points.last() {
        Some(point) => format!(
            "{} measurements. Latest: {} {} on {}, z-score {}, percentile {}.",
            data.points.len(),
            value_label(point.value),
            data.unit,
            point.date,
            point.z_score,
            point.percentile
        ),
        None => "No measurements yet; the WHO percentile curves are shown.".to_owned(),
    };
    let title = data.title.clone();
    let unit = data.unit.clone();

    let grid = value_ticks
        .iter()
        .map(|value| {
            let y = scale.y(*value);
            view! {
                <line class="chart-grid" x1=LEFT x2=WIDTH - RIGHT y1=y y2=y />
                <text class="chart-tick" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">
                    {value_label(*value)}
                </text>
            }
        })
        .collect_view();
    let day_axis = day_ticks
        .iter()
        .map(|day| {
            let x = scale.x(*day);
            view! {
                <line class="chart-grid" x1=x x2=x y1=TOP y2=HEIGHT - BOTTOM />
                <text class="chart-tick" x=x y=HEIGHT - BOTTOM + 16.0 text-anchor="middle">
                    {age_label(*day)}
                </text>
            }
        })
        .collect_view();
    let curves = data
        .curves
        .iter()
        .map(|curve| {
            let label_at = curve.points.last().copied();
            let class = if curve.percentile == 50 {
                "chart-curve chart-curve--median"
            } else {
                "chart-curve"
            };
            view! {
                <polyline class=class points=polyline(&scale, &curve.points) />
                {label_at.map(|(day, value)| view! {
                    <text class="chart-curve-label" x=scale.x(day) + 4.0 y=scale.y(value) + 4.0>
                        {format!("{}th", curve.percentile)}
                    </text>
                })}
            }
        })
        .collect_view();
    let measured: Vec<(f64, f64)> = data
        .points
        .iter()
        .map(|point| (point.age_days, point.value))
        .collect();
    let dots = data
        .points
        .iter()
        .map(|point| {
            view! {
                <circle class="chart-point" cx=scale.x(point.age_days) cy=scale.y(point.value) r="5">
                    <title>
                        {format!(
                            "{}: {} {}, z {}, percentile {}",
                            point.date,
                            value_label(point.value),
                            unit,
                            point.z_score,
                            point.percentile
                        )}
                    </title>
                </circle>
            }
        })
        .collect_view();
    let rows = data
        .points
        .iter()
        .rev()
        .map(|point| {
            view! {
                <tr>
                    <td>{point.date.clone()}</td>
                    <td>{format!("{} {}", value_label(point.value), data.unit)}</td>
                    <td>{point.z_score.clone()}</td>
                    <td>{point.percentile.clone()}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <figure class="growth-chart">
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label=format!("{title}. {description}")
                preserveAspectRatio="xMidYMid meet"
            >
                {grid}
                {day_axis}
                {curves}
                <polyline class="chart-measured" points=polyline(&scale, &measured) />
                {dots}
                <text class="chart-axis-label" x=(LEFT + WIDTH - RIGHT) / 2.0 y=HEIGHT - 6.0 text-anchor="middle">
                    "Age"
                </text>
                <text class="chart-axis-label" x="14" y=HEIGHT / 2.0 text-anchor="middle"
                    transform=format!("rotate(-90 14 {})", HEIGHT / 2.0)>
                    {unit.clone()}
                </text>
            </svg>
            <figcaption>{title.clone()}" against the WHO Child Growth Standards."</figcaption>
            <table class="growth-table">
                <caption class="visually-hidden">{format!("{title}: measurements")}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Date"</th>
                        <th scope="col">"Measurement"</th>
                        <th scope="col">"z-score"</th>
                        <th scope="col">"Percentile"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(points: Vec<(f64, f64)>) -> GrowthChartData {
        GrowthChartData {
            title: "Weight-for-age, girls".to_owned(),
            unit: "kg".to_owned(),
            curves: vec![ChartCurve {
                percentile: 50,
                points: vec![(0.0, 3.2), (56.0, 5.1)],
            }],
            points: points
                .into_iter()
                .map(|(age_days, value)| ChartPoint {
                    age_days,
                    value,
                    date: "2026-11-20".to_owned(),
                    z_score: "0.00".to_owned(),
                    percentile: "50.0".to_owned(),
                })
                .collect(),
        }
    }

    #[test]
    fn scale_maps_extremes_inside_the_plot() {
        let scale = Scale::fit(&data(vec![(28.0, 4.2)])).unwrap();
        assert_eq!(scale.x(0.0), LEFT);
        assert_eq!(scale.x(56.0), WIDTH - RIGHT);
        assert!(scale.y(5.1) > TOP);
        assert!(scale.y(3.2) < HEIGHT - BOTTOM);
        assert!(
            scale.y(5.1) < scale.y(3.2),
            "larger values are drawn higher"
        );
    }

    #[test]
    fn scale_includes_points_outside_the_curves() {
        let scale = Scale::fit(&data(vec![(70.0, 7.5)])).unwrap();
        assert!(scale.max_day >= 70.0);
        assert!(scale.max_value >= 7.5);
    }

    #[test]
    fn empty_chart_has_no_scale() {
        let mut empty = data(vec![]);
        empty.curves.clear();
        assert_eq!(Scale::fit(&empty), None);
    }

    #[test]
    fn non_finite_values_are_ignored() {
        let scale = Scale::fit(&data(vec![(f64::NAN, f64::INFINITY)])).unwrap();
        assert!(scale.max_value.is_finite());
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(3.0, 5.2), vec![3.0, 3.5, 4.0, 4.5, 5.0]);
        assert_eq!(ticks(0.0, 100.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(2.0, 2.0), vec![2.0]);
    }

    #[test]
    fn ages_read_in_weeks_then_months() {
        assert_eq!(age_label(0.0), "0 wk");
        assert_eq!(age_label(42.0), "6 wk");
        assert_eq!(age_label(183.0), "6 mo");
    }

    #[test]
    fn svg_points_round_to_one_decimal() {
        let points = [(56.0, 356.04), (0.05, -2.26), (-0.04, 1e9)];
        assert_eq!(
            svg_points(points.into_iter()),
            "56.0,356.0 0.1,-2.3 0.0,1000000000.0"
        );
        assert_eq!(svg_number(f64::NAN), "0");
        assert_eq!(svg_number(12.349), "12.3");
        assert_eq!(svg_number(-12.34), "-12.3");
        assert_eq!(svg_number(0.0), "0.0");
        assert_eq!(svg_number(1234.56), "1234.6");
        assert_eq!(svg_number(9.96), "10.0");
    }

    #[test]
    fn value_labels_drop_a_trailing_zero() {
        assert_eq!(value_label(4.0), "4");
        assert_eq!(value_label(4.5), "4.5");
    }
}
