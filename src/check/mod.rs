//! Checks over a loaded project: problems that need the whole merged project to see
//! (references between services and resources, dependency cycles). Loading already
//! reported everything a single value can show.

mod conflicts;
pub mod dockerfile;
mod production;
mod references;

use crate::diag::Diagnostics;
use crate::load::Project;

pub fn check(project: &Project, diags: &mut Diagnostics) {
    references::check(&project.typed, diags);
    dockerfile::check(&project.typed, diags);
    conflicts::check(&project.typed.services, diags);
    if let Some(services) = crate::load::services_map(&project.root) {
        production::check(services, diags);
    }
}
