//! Charts drawn as SVG on the server and in the browser alike: an infant's measurements against
//! the WHO percentile curves.

mod growth;

pub use growth::{ChartCurve, ChartPoint, GrowthChart, GrowthChartData};
