//! The crypto ceiling of `custos encrypt|decrypt`: AES-256-GCM through
//! aws-lc (`custos-crypto`), on every core, in memory, with no format, no
//! I/O and no signature: how fast frames could be sealed and opened if
//! nothing else cost anything. Used by BENCHMARKS.md ("File encryption").
//!
//! ```text
//! cargo run --release -p custos --example aes_gcm_ceiling -- [THREADS] [CHUNK_BYTES] [TOTAL_BYTES]
//! ```
//!
//! Defaults: one thread per core, 65536-byte chunks (one frame), 1 GiB in
//! all. Each thread seals its share chunk by chunk with `seal_append`
//! (which copies the plaintext into the output, as the file pipeline does),
//! then opens what it sealed with `open_append`.

use std::time::Instant;

use custos_crypto::aes_gcm::AesGcmKey;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = args.next().and_then(Result::ok).unwrap_or(cores).max(1);
    let chunk = args.next().and_then(Result::ok).unwrap_or(64 << 10).max(1);
    let total = args.next().and_then(Result::ok).unwrap_or(1 << 30);
    let per_thread = (total / threads / chunk).max(1);
    let bytes = (per_thread * chunk * threads) as f64;

    let key = match AesGcmKey::new(&[7u8; 32]) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("aes_gcm_ceiling: {e}");
            std::process::exit(1);
        }
    };
    let plaintext = vec![0x5au8; chunk];
    let start = Instant::now();
    let sealed: Vec<Vec<u8>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (key, plaintext) = (&key, &plaintext);
                s.spawn(move || {
                    let mut out = Vec::with_capacity(chunk + 16);
                    let mut last = Vec::new();
                    for i in 0..per_thread {
                        let mut nonce = [0u8; 12];
                        nonce[..4].copy_from_slice(&(t as u32).to_be_bytes());
                        nonce[4..].copy_from_slice(&(i as u64).to_be_bytes());
                        out.clear();
                        if key
                            .seal_append(&nonce, b"aad", plaintext, &mut out)
                            .is_err()
                        {
                            return Vec::new();
                        }
                        if i + 1 == per_thread {
                            last = out.clone();
                        }
                    }
                    last
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    let seal_secs = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let opened_ok = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (key, sealed) = (&key, &sealed);
                s.spawn(move || {
                    let Some(ct) = sealed.get(t) else {
                        return false;
                    };
                    let (body, tag) = ct.split_at(ct.len().saturating_sub(16));
                    let mut nonce = [0u8; 12];
                    nonce[..4].copy_from_slice(&(t as u32).to_be_bytes());
                    nonce[4..].copy_from_slice(&((per_thread - 1) as u64).to_be_bytes());
                    let mut out = Vec::with_capacity(chunk);
                    let mut ok = true;
                    for _ in 0..per_thread {
                        out.clear();
                        ok &= key.open_append(&nonce, b"aad", body, tag, &mut out).is_ok();
                    }
                    ok
                })
            })
            .collect();
        workers.into_iter().all(|w| w.join().unwrap_or(false))
    });
    let open_secs = start.elapsed().as_secs_f64();
    if sealed.len() != threads || !opened_ok {
        eprintln!("aes_gcm_ceiling: a seal or open failed");
        std::process::exit(1);
    }
    let mib = |secs: f64| bytes / secs / (1 << 20) as f64;
    println!(
        "AES-256-GCM, {threads} threads, {chunk}-byte chunks, {:.0} MiB: seal {:.0} MiB/s, open {:.0} MiB/s",
        bytes / (1 << 20) as f64,
        mib(seal_secs),
        mib(open_secs)
    );
}
