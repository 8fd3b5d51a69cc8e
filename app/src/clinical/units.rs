//! Units in which measurements may be entered, and their conversion to the units that clinical
//! rules use: mmHg, °C, kg and cm.
//!
//! A measurement is stored as entered (value and unit) so that the record shows what the
//! clinician typed. Rules run on the normalised value. The conversion factors are exact by
//! definition, except mmHg per kPa, which follows from 1 mmHg = 133.322387415 Pa.

use serde::{Deserialize, Serialize};

/// Pascals in one millimetre of mercury.
const PASCALS_PER_MMHG: f64 = 133.322_387_415;
/// Kilograms in one avoirdupois pound (international yard and pound agreement, 1959).
const KILOGRAMS_PER_POUND: f64 = 0.453_592_37;
/// Centimetres in one inch.
const CENTIMETRES_PER_INCH: f64 = 2.54;

/// Accepted units for blood pressure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PressureUnit {
    MillimetresOfMercury,
    Kilopascals,
}

/// Accepted units for body temperature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemperatureUnit {
    Celsius,
    Fahrenheit,
}

/// Accepted units for body weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MassUnit {
    Kilograms,
    Grams,
    Pounds,
    Ounces,
}

/// Accepted units for length, height and head circumference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LengthUnit {
    Centimetres,
    Millimetres,
    Inches,
}

/// A measurement as entered: the number and the unit it was entered in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Entered<U> {
    pub value: f64,
    pub unit: U,
}

impl<U> Entered<U> {
    pub fn new(value: f64, unit: U) -> Self {
        Self { value, unit }
    }
}

impl Entered<PressureUnit> {
    /// Converts the value to millimetres of mercury.
    pub fn to_mmhg(&self) -> f64 {
        match self.unit {
            PressureUnit::MillimetresOfMercury => self.value,
            PressureUnit::Kilopascals => self.value * 1000.0 / PASCALS_PER_MMHG,
        }
    }
}

impl Entered<TemperatureUnit> {
    /// Converts the value to degrees Celsius.
    pub fn to_celsius(&self) -> f64 {
        match self.unit {
            TemperatureUnit::Celsius => self.value,
            TemperatureUnit::Fahrenheit => (self.value - 32.0) * 5.0 / 9.0,
        }
    }
}

impl Entered<MassUnit> {
    /// Converts the value to kilograms.
    pub fn to_kilograms(&self) -> f64 {
        match self.unit {
            MassUnit::Kilograms => self.value,
            MassUnit::Grams => self.value / 1000.0,
            MassUnit::Pounds => self.value * KILOGRAMS_PER_POUND,
            MassUnit::Ounces => self.value * KILOGRAMS_PER_POUND / 16.0,
        }
    }
}

impl Entered<LengthUnit> {
    /// Converts the value to centimetres.
    pub fn to_centimetres(&self) -> f64 {
        match self.unit {
            LengthUnit::Centimetres => self.value,
            LengthUnit::Millimetres => self.value / 10.0,
            LengthUnit::Inches => self.value * CENTIMETRES_PER_INCH,
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-9,
            "expected {expected}, got {actual}"
        );
    }

    #[test]
    fn pressure_converts_to_mmhg() {
        assert_close(
            Entered::new(120.0, PressureUnit::MillimetresOfMercury).to_mmhg(),
            120.0,
        );
        // 16 kPa * 1000 / 133.322387415 Pa per mmHg
        assert_close(
            Entered::new(16.0, PressureUnit::Kilopascals).to_mmhg(),
            120.009_852_135_305_01,
        );
    }

    #[test]
    fn temperature_converts_to_celsius() {
        assert_close(
            Entered::new(37.2, TemperatureUnit::Celsius).to_celsius(),
            37.2,
        );
        assert_close(
            Entered::new(98.6, TemperatureUnit::Fahrenheit).to_celsius(),
            37.0,
        );
        assert_close(
            Entered::new(100.4, TemperatureUnit::Fahrenheit).to_celsius(),
            38.0,
        );
        assert_close(
            Entered::new(32.0, TemperatureUnit::Fahrenheit).to_celsius(),
            0.0,
        );
    }

    #[test]
    fn mass_converts_to_kilograms() {
        assert_close(Entered::new(3.4, MassUnit::Kilograms).to_kilograms(), 3.4);
        assert_close(Entered::new(3400.0, MassUnit::Grams).to_kilograms(), 3.4);
        assert_close(
            Entered::new(1.0, MassUnit::Pounds).to_kilograms(),
            0.453_592_37,
        );
        assert_close(
            Entered::new(1.0, MassUnit::Ounces).to_kilograms(),
            0.028_349_523_125,
        );
        // 7 lb 8 oz entered as 120 oz.
        assert_close(
            Entered::new(120.0, MassUnit::Ounces).to_kilograms(),
            3.401_942_775,
        );
    }

    #[test]
    fn length_converts_to_centimetres() {
        assert_close(
            Entered::new(50.5, LengthUnit::Centimetres).to_centimetres(),
            50.5,
        );
        assert_close(
            Entered::new(505.0, LengthUnit::Millimetres).to_centimetres(),
            50.5,
        );
        assert_close(
            Entered::new(20.0, LengthUnit::Inches).to_centimetres(),
            50.8,
        );
    }

    #[test]
    fn entered_value_serializes_with_unit() {
        let entered = Entered::new(101.3, TemperatureUnit::Fahrenheit);

        let json = serde_json::to_string(&entered).unwrap();
        let parsed: Entered<TemperatureUnit> = serde_json::from_str(&json).unwrap();

        assert_eq!(json, r#"{"value":101.3,"unit":"fahrenheit"}"#);
        assert_eq!(parsed, entered);
    }
}
