//! `kompile images`: the images the project builds and the references the manifests use.

use super::{INPUT_ERRORS, SUCCESS, load_and_check, print, report};
use crate::cli::{ImagesArgs, ImagesFormat};
use crate::diag::Diagnostics;
use crate::images::{self, Naming, formats};
use crate::source::Sources;

pub fn run(args: &ImagesArgs) -> i32 {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let project = load_and_check(&args.project.options(), &mut sources, &mut diags);
    let mut code = INPUT_ERRORS;
    if let Some(project) = project.filter(|_| !diags.has_errors()) {
        let naming = Naming { registry: args.project.registry.as_deref(), skip_hashing: false };
        let built = images::plan(&project.typed, naming, &mut diags);
        if !diags.has_errors() {
            print(&match args.format {
                ImagesFormat::Text => formats::text(&built, &project.typed.directory),
                ImagesFormat::Json => formats::json(&built),
                ImagesFormat::Bake => formats::bake(&built),
            });
            code = SUCCESS;
        }
    }
    report(diags, &sources);
    code
}
