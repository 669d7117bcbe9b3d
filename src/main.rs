fn main() {
    eprintln!("tcptriage: not built yet");
    std::process::exit(2);
}
