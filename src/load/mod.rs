//! Loading: compose files → one resolved [`node::Node`] tree per project, with spans.

pub mod node;
pub mod yaml;
