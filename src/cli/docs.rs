//! Shell completions and man pages, generated from the clap definition so
//! that they can never disagree with `--help`.

use clap::CommandFactory;
use clap_complete::Shell;
use std::io::{self, Write};
use std::path::Path;

/// `tcptriage completions`: the completion script for `shell` on `out`.
/// clap_complete panics when its writer fails, so the script is generated
/// in memory and written here: a reader gone early (`| head`) ends the run
/// quietly like every other command instead of as an internal error.
pub fn completions<C: CommandFactory>(
    shell: Shell,
    out: &mut dyn Write,
) -> anyhow::Result<std::process::ExitCode> {
    use anyhow::Context;
    let mut cmd = C::command();
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    out.write_all(&script)
        .and_then(|()| out.flush())
        .context("writing the completion script")?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Writes the man page of the whole command to `out`.
pub fn man_page<C: CommandFactory>(out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(C::command()).render(out)
}

/// Writes `tcptriage.1` and one `tcptriage-SUB.1` per subcommand into
/// `dir`; returns the files written.
pub fn man_pages<C: CommandFactory>(dir: &Path) -> io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let cmd = C::command();
    let name = cmd.get_name().to_string();
    let mut written = Vec::new();
    let mut write = |file: String, page: clap::Command| -> io::Result<()> {
        let mut f = io::BufWriter::new(std::fs::File::create(dir.join(&file))?);
        clap_mangen::Man::new(page).render(&mut f)?;
        f.flush()?;
        written.push(file);
        Ok(())
    };
    write(format!("{name}.1"), cmd.clone())?;
    for sub in cmd.get_subcommands() {
        let sub_name = format!("{name}-{}", sub.get_name());
        write(format!("{sub_name}.1"), sub.clone().name(sub_name.clone()))?;
    }
    Ok(written)
}

/// `tcptriage man`: the page on `out`, or with `dir` one page per command
/// written there (and named on stderr).
pub fn run_man<C: CommandFactory>(
    dir: Option<&Path>,
    out: &mut dyn Write,
) -> anyhow::Result<std::process::ExitCode> {
    use anyhow::Context;
    let Some(dir) = dir else {
        man_page::<C>(out).context("writing the man page")?;
        return Ok(std::process::ExitCode::SUCCESS);
    };
    let shown = tcptriage::report::sanitize(&dir.display().to_string());
    let files = man_pages::<C>(dir).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    eprintln!("tcptriage: wrote {} in {shown}", files.join(", "));
    Ok(std::process::ExitCode::SUCCESS)
}
