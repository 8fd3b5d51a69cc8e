//! Server functions of the portal. Each one authorizes through the access policy in its first
//! lines, before it reads or writes anything.

mod check_in;
mod growth;
mod home;
mod logs;

pub use check_in::*;
pub use growth::*;
pub use home::*;
pub use logs::*;
