//! Checks over a loaded project: problems that need the whole merged project to see
//! (references between services and resources, dependency cycles). Loading already
//! reported everything a single value can show.

mod conflicts;
pub mod dockerfile;
mod production;
mod references;

use crate::compose::Project;
use crate::diag::Diagnostics;

pub fn check(project: &Project, diags: &mut Diagnostics) {
    references::check(project, diags);
    dockerfile::check(project, diags);
    conflicts::check(&project.services, diags);
    production::check(project, diags);
}
