//! Prints the synthetic grid store config: `cargo run -p walkout-benches --example grid_store -- 32 40`.
fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (n, side) = (
        args.first().copied().unwrap_or(32),
        args.get(1).copied().unwrap_or(40),
    );
    print!("{}", walkout_benches::grid_store_toml(n, side as f64));
}
