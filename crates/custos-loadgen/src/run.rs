//! `run`: the setup, the workers, and the measured window.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use tokio::time::{Instant, sleep_until, timeout_at};

use crate::cli::{Op, RunArgs};
use crate::client::{Connection, Connector, Reply, SendError};
use crate::endpoint::Endpoint;
use crate::kms::{self, Call};
use crate::report::{Report, RunFacts, Tally};
use crate::signer::Signer;
use crate::tls;

/// How many failed requests are printed on stderr.
const ERRORS_SHOWN: usize = 5;
/// Pause after a failed connection attempt, so that a dead server is not
/// hammered in a tight loop.
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);

/// Runs the setup, then the load, and reports.
pub(crate) async fn run(args: RunArgs) -> anyhow::Result<Report> {
    let endpoint = Endpoint::parse(&args.endpoint)?;
    let connector = Connector::new(tls::client_config(&args.ca_bundle)?, endpoint.clone());
    let signer = Signer::new(
        &endpoint,
        args.region,
        args.access_key_id,
        args.secret_access_key,
    )?;
    let size = if args.op == Op::GenerateDataKey {
        kms::DATA_KEY_SIZE as u64
    } else {
        args.size
    };
    let plaintext = kms::plaintext(usize::try_from(size).context("--size is too large")?);

    // The setup gets the same time limit as any request of the load.
    let timeout = Duration::from_secs(args.timeout);
    let setup = async {
        let (mut connection, tls) = connector.connect().await?;
        let call = prepare(
            args.op,
            &KeyChoice {
                key_id: args.key_id.as_deref(),
                key_spec: &args.key_spec,
                signing_algorithm: args.signing_algorithm.as_deref(),
                key_pair_spec: &args.key_pair_spec,
            },
            &plaintext,
            &mut connection,
            &signer,
        )
        .await?;
        anyhow::Ok((call, tls))
    };
    let (call, tls) = tokio::time::timeout(timeout, setup)
        .await
        .map_err(|_elapsed| anyhow::anyhow!("no answer within {timeout:?}"))
        .and_then(|setup| setup)
        .context("setup")?;

    let warmup = Duration::from_secs(args.warmup);
    let duration = Duration::from_secs(args.duration);
    let start = Instant::now();
    let window = Window {
        from: start + warmup,
        to: start + warmup + duration,
    };
    let shared = Arc::new(Shared {
        connector,
        signer,
        call,
        window,
        timeout,
        errors_shown: AtomicUsize::new(0),
    });
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| tokio::spawn(worker(Arc::clone(&shared))))
        .collect();
    let mut tally = Tally::default();
    for worker in workers {
        tally.merge(worker.await.context("a worker task failed")?);
    }

    let threads = match args.threads {
        Some(threads) => usize::from(threads),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    Ok(Report::new(
        RunFacts {
            op: args.op.name(),
            size,
            concurrency: args.concurrency,
            threads,
            warmup,
            duration,
            tls,
        },
        tally,
    ))
}

/// Which key the operation uses, and how.
struct KeyChoice<'a> {
    key_id: Option<&'a str>,
    key_spec: &'a str,
    signing_algorithm: Option<&'a str>,
    key_pair_spec: &'a str,
}

/// Makes sure `op` works, creating or encrypting what it needs, and returns
/// the request to send under load.
async fn prepare(
    op: Op,
    keys: &KeyChoice<'_>,
    plaintext: &[u8],
    connection: &mut Connection,
    signer: &Signer,
) -> anyhow::Result<Call> {
    let key_id = keys.key_id;
    match op {
        Op::Noop => {
            let call = Call::noop(plaintext);
            exchange(connection, signer, &call)
                .await
                .context("noop request")?;
            Ok(call)
        }
        Op::Encrypt => {
            let key_id = resolve_key(key_id, connection, signer).await?;
            let call = Call::encrypt(&key_id, plaintext);
            let reply = exchange(connection, signer, &call)
                .await
                .context("Encrypt")?;
            kms::ciphertext_blob(&reply.body).context("Encrypt response")?;
            Ok(call)
        }
        Op::Decrypt => {
            let key_id = resolve_key(key_id, connection, signer).await?;
            let reply = exchange(connection, signer, &Call::encrypt(&key_id, plaintext))
                .await
                .context("Encrypt of the plaintext to decrypt")?;
            let blob = kms::ciphertext_blob(&reply.body).context("Encrypt response")?;
            let call = Call::decrypt(&blob);
            let reply = exchange(connection, signer, &call)
                .await
                .context("Decrypt")?;
            let decrypted = kms::plaintext_field(&reply.body).context("Decrypt response")?;
            ensure!(
                decrypted == plaintext,
                "Decrypt returned another plaintext than the one encrypted"
            );
            Ok(call)
        }
        Op::GenerateDataKey => {
            let key_id = resolve_key(key_id, connection, signer).await?;
            let call = Call::generate_data_key(&key_id);
            let reply = exchange(connection, signer, &call)
                .await
                .context("GenerateDataKey")?;
            let data_key = kms::plaintext_field(&reply.body).context("GenerateDataKey response")?;
            ensure!(
                data_key.len() == kms::DATA_KEY_SIZE,
                "GenerateDataKey returned a {}-byte data key, not {}",
                data_key.len(),
                kms::DATA_KEY_SIZE
            );
            kms::ciphertext_blob(&reply.body).context("GenerateDataKey response")?;
            Ok(call)
        }
        Op::Sign | Op::Verify => {
            let key_id = match key_id {
                Some(key_id) => key_id.to_owned(),
                None => {
                    let call = Call::create_signing_key(keys.key_spec);
                    let reply = exchange(connection, signer, &call)
                        .await
                        .context("CreateKey")?;
                    let key_id = kms::created_key_id(&reply.body).context("CreateKey response")?;
                    eprintln!("custos-loadgen: created {} key {key_id}", keys.key_spec);
                    key_id
                }
            };
            let algorithm = keys
                .signing_algorithm
                .unwrap_or_else(|| kms::default_signing_algorithm(keys.key_spec));
            let sign = Call::sign(&key_id, algorithm, plaintext);
            let reply = exchange(connection, signer, &sign).await.context("Sign")?;
            let signature = kms::signature(&reply.body).context("Sign response")?;
            let verify = Call::verify(&key_id, algorithm, plaintext, &signature);
            let reply = exchange(connection, signer, &verify)
                .await
                .context("Verify")?;
            ensure!(
                kms::signature_valid(&reply.body).context("Verify response")?,
                "Verify did not accept the signature Sign made"
            );
            Ok(if op == Op::Sign { sign } else { verify })
        }
        Op::GenerateDataKeyPair => {
            let key_id = resolve_key(key_id, connection, signer).await?;
            let call = Call::generate_data_key_pair(&key_id, keys.key_pair_spec);
            let reply = exchange(connection, signer, &call)
                .await
                .context("GenerateDataKeyPair")?;
            kms::plaintext_field_named(&reply.body, "PrivateKeyPlaintext")
                .context("GenerateDataKeyPair response")?;
            Ok(call)
        }
    }
}

/// The key given, or a new one from CreateKey.
async fn resolve_key(
    given: Option<&str>,
    connection: &mut Connection,
    signer: &Signer,
) -> anyhow::Result<String> {
    if let Some(key_id) = given {
        return Ok(key_id.to_owned());
    }
    let reply = exchange(connection, signer, &Call::create_key())
        .await
        .context("CreateKey")?;
    let key_id = kms::created_key_id(&reply.body).context("CreateKey response")?;
    eprintln!("custos-loadgen: created key {key_id}");
    Ok(key_id)
}

/// One setup request, which must succeed.
async fn exchange(
    connection: &mut Connection,
    signer: &Signer,
    call: &Call,
) -> anyhow::Result<Reply> {
    let reply = match connection.send(signer.sign(call)?).await {
        Ok(reply) => reply,
        Err(SendError::NotSent) => bail!("the server closed the connection"),
        Err(SendError::Failed(err)) => return Err(err),
    };
    if !reply.status.is_success() {
        bail!("HTTP {}: {}", reply.status, reply.body_excerpt());
    }
    Ok(reply)
}

/// The measured part of the run. Requests before `from` are warm-up; the run
/// ends at `to`.
#[derive(Clone, Copy, Debug)]
struct Window {
    from: Instant,
    to: Instant,
}

impl Window {
    /// Whether a request counts: it started and finished inside the window.
    fn counts(&self, sent: Instant, done: Instant) -> bool {
        sent >= self.from && done <= self.to
    }
}

/// What every worker shares.
struct Shared {
    connector: Connector,
    signer: Signer,
    call: Call,
    window: Window,
    timeout: Duration,
    errors_shown: AtomicUsize,
}

impl Shared {
    /// Prints the first few failures on stderr.
    fn show_error(&self, describe: impl FnOnce() -> String) {
        let shown = self.errors_shown.fetch_add(1, Ordering::Relaxed);
        if shown < ERRORS_SHOWN {
            eprintln!("custos-loadgen: {}", describe());
        } else if shown == ERRORS_SHOWN {
            eprintln!("custos-loadgen: further errors are counted, not shown");
        }
    }
}

/// One connection, one request at a time, until the window closes.
async fn worker(shared: Arc<Shared>) -> Tally {
    let window = shared.window;
    let mut tally = Tally::default();
    let mut connection: Option<Connection> = None;
    loop {
        let now = Instant::now();
        if now >= window.to {
            break;
        }
        // Nothing may outlast the run, not even a hung server.
        let deadline = (now + shared.timeout).min(window.to);

        let mut open = match connection.take() {
            Some(open) if !open.is_closed() => open,
            _ => match timeout_at(deadline, shared.connector.connect()).await {
                Ok(Ok((open, _tls))) => {
                    tally.connections += 1;
                    open
                }
                Ok(Err(err)) => {
                    if window.counts(now, Instant::now()) {
                        tally.transport_errors += 1;
                    }
                    shared.show_error(|| format!("{err:#}"));
                    sleep_until((Instant::now() + RECONNECT_PAUSE).min(window.to)).await;
                    continue;
                }
                Err(_elapsed) => {
                    if deadline < window.to {
                        tally.transport_errors += u64::from(window.counts(now, deadline));
                        shared.show_error(|| "connecting timed out".to_owned());
                    }
                    continue;
                }
            },
        };

        let request = match shared.signer.sign(&shared.call) {
            Ok(request) => request,
            Err(err) => {
                // Signed fine during setup, so this cannot happen; count it
                // rather than stop.
                tally.transport_errors += u64::from(window.counts(now, Instant::now()));
                shared.show_error(|| format!("{err:#}"));
                continue;
            }
        };
        let sent = Instant::now();
        let outcome = timeout_at(deadline, open.send(request)).await;
        let done = Instant::now();
        let counts = window.counts(sent, done);
        match outcome {
            Ok(Ok(reply)) => {
                connection = Some(open);
                if reply.status.is_success() {
                    if counts {
                        let nanos = done.duration_since(sent).as_nanos();
                        tally
                            .latencies_ns
                            .push(u64::try_from(nanos).unwrap_or(u64::MAX));
                    }
                } else {
                    if counts {
                        *tally.http_errors.entry(reply.status.as_u16()).or_default() += 1;
                    }
                    shared
                        .show_error(|| format!("HTTP {}: {}", reply.status, reply.body_excerpt()));
                }
            }
            // The server closed an idle keep-alive connection: reconnect.
            Ok(Err(SendError::NotSent)) => {}
            Ok(Err(SendError::Failed(err))) => {
                tally.transport_errors += u64::from(counts);
                shared.show_error(|| format!("request failed: {err:#}"));
            }
            Err(_elapsed) => {
                // Cut off by the end of the run: neither counted nor failed.
                if deadline < window.to {
                    tally.transport_errors += u64::from(window.counts(sent, deadline));
                    shared.show_error(|| format!("request timed out after {:?}", shared.timeout));
                }
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_only_requests_inside_it() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let window = Window {
            from: start + second,
            to: start + 3 * second,
        };
        assert!(window.counts(start + second, start + 2 * second));
        assert!(window.counts(start + 2 * second, start + 3 * second));
        assert!(
            !window.counts(start, start + 2 * second),
            "started in warm-up"
        );
        assert!(
            !window.counts(start + 2 * second, start + 4 * second),
            "finished late"
        );
    }
}
