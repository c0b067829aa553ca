//! Dockerfile parsing: a lossless-enough syntax tree with a byte span on every instruction,
//! flag and argument, typed views of the instructions kompile reads, variable substitution
//! and build-stage resolution.
//!
//! ```text
//! parse(text) ─▶ Dockerfile { directives, instructions, escape, errors, warnings }
//!                    │  Instruction::as_from / as_env / as_copy / ... (views)
//!                    ├▶ stages(&dockerfile) ─▶ Stages { global_args, stages }
//!                    └▶ image_config(&dockerfile, target, args) ─▶ ImageConfig (ports, user, ...)
//! substitute(word, escape, lookup) ─▶ expanded, unquoted text
//! ```
//!
//! Follows the Dockerfile reference and BuildKit's parser: parsing never fails, every
//! problem is a [`ParseError`] with a span.

mod ast;
mod directives;
mod files;
mod image;
mod lines;
mod parser;
mod stages;
mod substitute;
mod validate;
mod views;
mod words;

#[cfg(test)]
mod tests;

pub(crate) use crate::suggest::closest;
pub use ast::{Args, Comment, Directive, Dockerfile, Flag, Heredoc, Instruction, Issue, Keyword, ParseError, Word};
pub use files::{ContextCopy, ImageFiles, Made, MadeBy, is_inside};
pub use image::{Exposed, Fact, ImageConfig, PLATFORM_ARGS, image_config};
pub use parser::parse;
pub use stages::{Base, Stage, Stages, stages};
pub use substitute::{SubstError, references, substitute, unquote};
pub use views::{
    ArgDecl, Command, CopyView, FromView, Healthcheck, Pair, Pairs, RunView, User, parse_duration, parse_port_spec,
};
