//! kompile: compose projects and Dockerfiles in, Kubernetes manifests out.
//!
//! The pipeline, one module per stage: [`load`] (files, spans, interpolation, merge) →
//! [`check`] (diagnostics) → [`lower`] (one typed [`model`]) → [`emit`] (Kubernetes
//! objects) → [`render`] (YAML, JSON, files).

pub mod check;
pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod compose;
pub mod diag;
pub mod dockerfile;
pub mod dockerignore;
pub mod emit;
pub mod images;
#[cfg(test)]
mod layers;
pub mod load;
pub mod lower;
pub mod model;
pub mod names;
pub mod parallel;
pub mod ports;
pub mod render;
pub mod source;
pub mod suggest;
pub mod terminal;
pub mod units;
