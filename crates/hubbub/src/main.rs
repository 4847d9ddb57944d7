//! `hubbub`: a self-hosted live-stream chat server. See `hubbub --help`.

fn main() -> std::process::ExitCode {
    hubbub::cli::main()
}
