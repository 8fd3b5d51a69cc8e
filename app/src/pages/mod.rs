//! Top-level pages.

mod area;
mod home;
mod not_found;

pub use area::{Area, AreaPage};
pub use home::HomePage;
pub use not_found::NotFoundPage;
