// malloc and free were a third of the instructions of a large build; mimalloc halves that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = kompile::terminal::parse_cli();
    let code = kompile::cmd::run(cli);
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
