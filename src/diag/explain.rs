//! The pages of docs/codes/, compiled into the binary for `kompile explain`.

use super::Code;

macro_rules! pages {
    ($($variant:ident $id:literal;)*) => {
        /// The documentation page of `code`: docs/codes/<ID>.md, verbatim. The match is
        /// exhaustive, so a new code does not compile until its page exists.
        pub fn page(code: Code) -> &'static str {
            match code {
                $(Code::$variant => include_str!(concat!("../../docs/codes/", $id, ".md")),)*
            }
        }
    };
}

pages! {
    ReadFailed "K001";
    NotText "K002";
    YamlSyntax "K003";
    DuplicateKey "K004";
    YamlLimit "K005";
    NoComposeFile "K006";
    WriteFailed "K007";
    InterpolationRequired "K010";
    InterpolationSyntax "K011";
    UnsetVariable "K012";
    DotenvSyntax "K013";
    OutsideProject "K014";
    FilesLeftOut "K015";
    ExpansionLimit "K016";
    ExtendsDepth "K017";
    ExtendsCycle "K020";
    ExtendsUnknown "K021";
    IncludeFailed "K022";
    UnknownProfile "K023";
    MultipleComposeFiles "K024";
    WrongType "K100";
    UnknownKey "K101";
    InvalidPort "K102";
    InvalidDuration "K103";
    InvalidSize "K104";
    InvalidCpus "K105";
    UndefinedReference "K106";
    MissingImage "K107";
    MissingFile "K108";
    DependencyCycle "K109";
    InvalidValue "K110";
    NoServices "K111";
    DisabledDependency "K112";
    HostPortConflict "K113";
    DuplicatePort "K114";
    UnpinnedImage "K115";
    MissingHealthcheck "K116";
    SecretInEnvironment "K117";
    UnreachableService "K118";
    UnsupportedKey "K200";
    NameChanged "K201";
    NameCollision "K202";
    RolloutDowntime "K203";
    HostPath "K204";
    BuildNeedsImage "K205";
    RestartPolicy "K206";
    NamedUser "K207";
    ProjectFiles "K208";
    SharedVolume "K209";
    RequestAboveLimit "K210";
    UnknownCommand "K211";
    InvalidLabelKey "K212";
    InvalidEnvName "K213";
    DockerfileSyntax "K300";
    EmptyContinuation "K301";
    InvalidJsonArgs "K302";
    MaintainerDeprecated "K303";
    MissingDockerfile "K304";
    RelativeWorkdir "K305";
    RootUser "K306";
    Sudo "K307";
    UnpinnedBaseImage "K308";
    UnpinnedPackage "K309";
    InvalidExpose "K310";
    ExposeFormat "K311";
    RepeatedInstruction "K312";
    AddInsteadOfCopy "K313";
    CopyToNonDirectory "K314";
    CopyFromUnknownStage "K315";
    CopyFromLaterStage "K316";
    StageName "K317";
    ShellFormCommand "K318";
    EnvSelfReference "K319";
    RelativeCopyDestination "K320";
    ImageWithoutHealthcheck "K321";
    SecretInBuild "K322";
    PipeWithoutPipefail "K323";
    UndefinedVariable "K324";
    LegacyKeyValue "K325";
    UnknownBuildTarget "K326";
    UndeclaredBuildArg "K327";
    MissingBuildArg "K328";
    PortNotExposed "K329";
    UserOverridesImage "K330";
    NoKubeconfig "K400";
    UnknownContext "K401";
    ClusterUnreachable "K402";
    Unauthorized "K403";
    Forbidden "K404";
    TokenExpired "K405";
    FieldConflict "K406";
    ObjectRejected "K407";
    ServerUnavailable "K408";
    RequestFailed "K409";
    RolloutFailed "K410";
    PruneSkipped "K411";
    ExternalDiff "K412";
    NotOwned "K413";
    BadResponse "K414";
    NoCredentials "K415";
}

/// The code `query` names: its id in any case (`k101`) or its name in any case, with `_`
/// for `-` allowed (`unknown-key`, `unknown_key`).
pub fn lookup(query: &str) -> Option<Code> {
    let query = query.trim().replace('_', "-");
    Code::ALL.iter().copied().find(|c| c.id().eq_ignore_ascii_case(&query) || c.name().eq_ignore_ascii_case(&query))
}

/// The code closest to a `query` that names none, for "did you mean".
pub fn suggest(query: &str) -> Option<Code> {
    let query = query.trim().to_ascii_lowercase();
    // Reversed, so that among equally close codes `max_by` keeps the lowest id.
    Code::ALL
        .iter()
        .rev()
        .map(|&c| {
            let score =
                strsim::jaro_winkler(&query, &c.id().to_ascii_lowercase()).max(strsim::jaro_winkler(&query, c.name()));
            (score, c)
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Every code, one per line: id, name, severity and summary, in columns.
pub fn list() -> String {
    let width = Code::ALL.iter().map(|c| c.name().len()).max().unwrap_or(0);
    let mut out = String::new();
    for code in Code::ALL {
        let severity = match code.default_severity() {
            super::Severity::Error => "error",
            super::Severity::Warning => "warning",
        };
        out.push_str(&format!("{}  {:<width$}  {severity:<7}  {}\n", code.id(), code.name(), code.summary()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_codes_by_id_or_name() {
        assert_eq!(lookup("K101"), Some(Code::UnknownKey));
        assert_eq!(lookup("k101"), Some(Code::UnknownKey));
        assert_eq!(lookup("unknown-key"), Some(Code::UnknownKey));
        assert_eq!(lookup("Unknown-Key"), Some(Code::UnknownKey));
        assert_eq!(lookup("unknown_key"), Some(Code::UnknownKey));
        assert_eq!(lookup("K999"), None);
    }

    #[test]
    fn suggests_close_codes() {
        assert_eq!(suggest("unknwn-key"), Some(Code::UnknownKey));
        assert_eq!(suggest("host-paths"), Some(Code::HostPath));
        assert_eq!(suggest("zzzzzz"), None);
    }

    #[test]
    fn every_page_starts_with_its_title() {
        for &code in Code::ALL {
            let title = format!("# {} {}\n", code.id(), code.name());
            assert!(page(code).starts_with(&title), "{}", code.id());
        }
    }
}
