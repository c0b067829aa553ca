//! `cargo bench --bench dockerfile`: parsing a 200-line multi-stage Dockerfile and
//! inferring the built stage's image configuration (ports, healthcheck, user, command).
//! Target: well under a millisecond. Prints the median and fastest of many runs.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const TARGET: Duration = Duration::from_micros(1000);
const RUNS: usize = 2_000;

/// A Dockerfile of exactly 200 lines in the shapes real ones have: global ARGs, several
/// stages building on each other, continuations, heredocs, JSON and shell forms.
fn dockerfile() -> String {
    let mut lines = vec![
        "# syntax=docker/dockerfile:1".to_string(),
        "ARG PYTHON=3.13".to_string(),
        "ARG PORT=8000".to_string(),
        "FROM python:${PYTHON}-slim AS base".to_string(),
        "ARG PORT".to_string(),
        "ENV PORT=${PORT} PYTHONUNBUFFERED=1".to_string(),
        "WORKDIR /app".to_string(),
    ];
    let mut stage = 0;
    while lines.len() < 186 {
        lines.push(format!("FROM base AS stage{stage}"));
        lines.push(format!("ARG VERSION_{stage}=1.{stage}.0"));
        lines.push(format!("LABEL org.opencontainers.image.version=\"${{VERSION_{stage}}}\""));
        lines.push("RUN apt-get update \\".to_string());
        lines.push("    && apt-get install -y --no-install-recommends curl ca-certificates \\".to_string());
        lines.push("    && rm -rf /var/lib/apt/lists/*".to_string());
        lines.push("RUN <<EOF".to_string());
        lines.push(format!("echo building stage {stage}"));
        lines.push("EOF".to_string());
        lines.push(format!("COPY --chown=10001:10001 src/{stage}/ ./src/{stage}/"));
        lines.push(format!("EXPOSE ${{PORT}} 90{stage:02}/udp"));
        lines.push(
            "HEALTHCHECK --interval=10s --timeout=2s CMD [\"curl\", \"-f\", \"http://localhost:8000/\"]".to_string(),
        );
        lines.push(format!("CMD [\"python\", \"-m\", \"app.stage{stage}\"]"));
        stage += 1;
    }
    lines.push("FROM base AS final".to_string());
    lines.push("COPY --from=stage0 /app /app".to_string());
    while lines.len() < 196 {
        lines.push("RUN python -m compileall -q /app".to_string());
    }
    lines.push("EXPOSE ${PORT}".to_string());
    lines.push("USER 10001:10001".to_string());
    lines.push("ENTRYPOINT [\"tini\", \"--\"]".to_string());
    lines.push("CMD [\"gunicorn\", \"app:app\"]".to_string());
    lines.join("\n") + "\n"
}

fn main() -> ExitCode {
    let text = dockerfile();
    let args = BTreeMap::from([("PORT".to_string(), "8080".to_string())]);
    let lines = text.lines().count();
    if kompile::dockerfile::image_config(&kompile::dockerfile::parse(&text), Some("final"), &args).is_none() {
        eprintln!("the generated Dockerfile has no `final` stage");
        return ExitCode::FAILURE;
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let parsed = kompile::dockerfile::parse(black_box(&text));
        let config = kompile::dockerfile::image_config(&parsed, Some("final"), &args);
        black_box(config);
        times.push(start.elapsed());
    }
    times.sort();
    let median = times.get(RUNS / 2).copied().unwrap_or_default();
    let fastest = times.first().copied().unwrap_or_default();
    let pass = median < TARGET;
    println!("parse + infer a {lines}-line Dockerfile ({} bytes), {RUNS} runs", text.len());
    println!("  median {:>8.1} µs", median.as_secs_f64() * 1e6);
    println!("  fastest {:>7.1} µs", fastest.as_secs_f64() * 1e6);
    println!("  target  < {} µs: {}", TARGET.as_micros(), if pass { "PASS" } else { "FAIL" });
    if pass { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
