use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = kompile::cli::Cli::parse();
    let code = kompile::cmd::run(cli);
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
