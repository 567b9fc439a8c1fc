//! sc-assoc keeps AWS Service Catalog service-action associations in the state a manifest
//! declares. The library is layered: [`manifest`] reads and validates what is desired, [`plan`]
//! compares it with what is observed (pure), [`apply`] carries the plan out through the
//! [`seam::Catalog`] trait, whose only AWS implementation is [`aws`]. [`local`] is a faithful
//! stand-in for the service, used by tests, benchmarks and the demo.

pub mod apply;
pub mod aws;
pub mod check;
pub mod control;
pub mod export;
pub mod local;
pub mod manifest;
pub mod observe;
pub mod pace;
pub mod plan;
pub mod progress;
pub mod redact;
pub mod resolve;
pub mod run;
pub mod seam;
pub mod triple;
pub mod verify;
