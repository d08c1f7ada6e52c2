//! Encryption and decryption of streams on every core, in bounded memory.
//!
//! A frame's IV and AAD depend only on the message ID, its sequence number
//! and its length, so frames can be sealed and opened in any order. What
//! must stay in order is small: reading the input, hashing the serialized
//! frames into the signature, and writing the output.
//!
//! # The pipeline
//!
//! ```text
//!  calling thread          N workers              writer thread
//!  read a batch ──jobs──▶ seal or open ──replies──▶ in order: hash (encrypt),
//!  of frames    ──reply slots, in order──────────▶ write, hand buffers back
//!       ▲                                                  │
//!       └──────────────── empty buffers ◀──────────────────┘
//! ```
//!
//! - A *batch* is a run of whole frames about [`Parallelism::batch_bytes`]
//!   (1 MiB) long, or a single frame when frames are longer: 4 KiB frames
//!   are far too small to hand to a thread one at a time.
//! - At most [`Parallelism::batches_in_flight`] batches exist (fewer when
//!   frames are so long that they would exceed
//!   [`Parallelism::memory_budget`], but never fewer than two). Their
//!   buffers are allocated once and recycled by the writer, and the reader
//!   waits while all are in use, so memory is bounded by about
//!   `batches × 2 × max(batch_bytes, frame length)` whatever the length of
//!   the stream: 12 MiB with two workers and frames up to 1 MiB, at most
//!   the 32 MiB budget up to 8 MiB frames, and four frames' worth beyond.
//! - On decryption the calling thread also splits the body into frames and
//!   hashes them for the signature ([`MessageBody::next_item`]); on
//!   encryption the writer hashes what it writes. That hash (SHA-384 for
//!   the signed suites) is the one computation over every byte that cannot
//!   be spread over the cores, and it caps the speed of signed messages.
//!
//! # The release contract
//!
//! [`decrypt_stream`] writes each batch of plaintext once its frames have
//! been opened, in order, *before the signature of a signed message has
//! been verified*, and holds back only the batch with the final frame until
//! the whole message, footer included, has been verified. As with
//! [`crate::Decryptor`], what it wrote is trustworthy only once it returns
//! `Ok`: write to a temporary file and rename it into place on success, or
//! refuse signed messages ([`crate::SignaturePolicy::RequireUnsigned`])
//! when writing somewhere that cannot be taken back.

use std::io::{self, Read, Write};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use custos_crypto::ecdsa::{Signer, Verifier};
use zeroize::{Zeroize, Zeroizing};

use crate::body::{BodyPart, FrameCipher};
use crate::context::EncryptionContext;
use crate::decrypt::{BodyItem, DecryptOptions, MessageBody, prepare_materials};
use crate::encrypt::{Encryptor, EncryptorParts};
use crate::error::Error;
use crate::header::{Header, HeaderParser, Parse};
use crate::keyring::Keyring;

/// How much work to do at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parallelism {
    /// Threads sealing or opening frames. The reader (the calling thread)
    /// and the writer are two more, mostly waiting on I/O.
    pub threads: usize,
    /// Target length of a batch of frames handed to a thread.
    pub batch_bytes: usize,
    /// Batches that may exist at once (being read, sealed or opened, or
    /// waiting to be written): the memory bound…
    pub batches_in_flight: usize,
    /// …lowered (to no fewer than 2) so that the batches' buffers, about
    /// twice the batch length each, stay within this many bytes when
    /// frames are long.
    pub memory_budget: usize,
}

impl Parallelism {
    /// `threads` worker threads (at least 1), 1 MiB batches, and enough
    /// batches in flight to keep every worker busy while the reader and the
    /// writer work.
    pub fn with_threads(threads: usize) -> Self {
        let threads = threads.max(1);
        Self {
            threads,
            batch_bytes: 1 << 20,
            batches_in_flight: 2 * threads + 2,
            memory_budget: 32 << 20,
        }
    }

    fn frames_per_batch(&self, frame_length: usize) -> usize {
        (self.batch_bytes / frame_length.max(1)).max(1)
    }

    /// How many batches of `batch_len` bytes may be in flight.
    fn in_flight(&self, batch_len: usize) -> usize {
        let affordable = self.memory_budget / (2 * batch_len.max(1));
        affordable.min(self.batches_in_flight).max(2)
    }
}

impl Default for Parallelism {
    /// One worker per available core.
    fn default() -> Self {
        Self::with_threads(std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
    }
}

/// Told, on the calling thread, what a stream operation is doing.
pub trait Observer {
    /// `bytes` more bytes of input have been read.
    fn progress(&mut self, bytes: u64) {
        let _ = bytes;
    }

    /// The header of the message being decrypted has been parsed. It is
    /// *not yet authenticated*: for diagnostics, or to refuse the message
    /// early (say, with [`Error::ContextMismatch`] when an expected
    /// encryption context key is missing).
    fn header_parsed(&mut self, header: &Header) -> Result<(), Error> {
        let _ = header;
        Ok(())
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unobserved;

impl Observer for Unobserved {}

/// What [`encrypt_stream`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncryptSummary {
    pub plaintext_len: u64,
    pub ciphertext_len: u64,
}

/// What [`decrypt_stream`] did.
#[derive(Debug)]
pub struct DecryptSummary {
    /// The authenticated header.
    pub header: Header,
    /// The full encryption context: stored and authenticate-only entries.
    pub encryption_context: EncryptionContext,
    pub ciphertext_len: u64,
    pub plaintext_len: u64,
}

/// Encrypts all of `input` into `output` as one message, sealing frames on
/// `parallelism.threads` threads. `encryptor` must be fresh (no `update`
/// yet); the output is byte for byte what its `update` and `finish` would
/// have written. `output` is flushed at the end.
pub fn encrypt_stream<R: Read, W: Write + Send>(
    encryptor: Encryptor,
    mut input: R,
    output: &mut W,
    parallelism: &Parallelism,
    observer: &mut dyn Observer,
) -> Result<EncryptSummary, Error> {
    let EncryptorParts {
        header,
        cipher,
        mut signer,
    } = encryptor.into_parts()?;
    output.write_all(&header)?;
    if let Some(s) = &mut signer {
        s.update(&header);
    }
    let frame = cipher.frame_length() as usize;
    let batch_len = parallelism.frames_per_batch(frame) * frame;
    let work = |job: &mut SealJob| job.seal(&cipher, frame);
    let writer = SealedWriter {
        output,
        written: header.len() as u64,
    };
    let signing = signer.map(|signer| Signing { signer });
    let produce = |feeder: &mut Feeder<'_, SealJob>| -> Result<(u64, Vec<u8>), Stop> {
        let mut seq: u32 = 1;
        let mut total = 0u64;
        loop {
            let mut job = feeder
                .next_job()?
                .unwrap_or_else(|| SealJob::new(batch_len, frame));
            let n = read_full(&mut input, &mut job.plaintext)?;
            observer.progress(n as u64);
            total += n as u64;
            job.len = n;
            job.first_seq = seq;
            job.last = n < batch_len;
            // Regular frames are numbered up to 0xFFFFFFFE; the final frame
            // may be 0xFFFFFFFF.
            let frames = u32::try_from(n / frame).map_err(|_| Error::PlaintextTooLong)?;
            seq = seq.checked_add(frames).ok_or(Error::PlaintextTooLong)?;
            if !job.last && seq == u32::MAX {
                return Err(Error::PlaintextTooLong.into());
            }
            let last = job.last;
            feeder.submit(job)?;
            if last {
                return Ok((total, Vec::new()));
            }
        }
    };
    let capacity = parallelism.in_flight(batch_len);
    let (plaintext_len, ciphertext_len) =
        run(parallelism, capacity, produce, &work, signing, writer)?;
    Ok(EncryptSummary {
        plaintext_len,
        ciphertext_len,
    })
}

/// Decrypts the message `input` holds into `output`, opening frames on
/// `parallelism.threads` threads; `keyring` unwraps the data key. **What is
/// written to `output` is trustworthy only if this returns `Ok`** (see the
/// release contract in the module documentation). `output` is flushed at
/// the end.
pub fn decrypt_stream<R: Read, W: Write + Send>(
    keyring: &dyn Keyring,
    options: &DecryptOptions,
    mut input: R,
    output: &mut W,
    parallelism: &Parallelism,
    observer: &mut dyn Observer,
) -> Result<DecryptSummary, Error> {
    let mut buf = Vec::new();
    let mut parser = HeaderParser::new(options.max_encrypted_data_keys);
    let (header, header_len) = loop {
        match parser.advance(&buf)? {
            Parse::Done(header, len) => break (header, len),
            Parse::Need(n) => {
                let before = buf.len();
                read_at_least(&mut input, &mut buf, n)?;
                observer.progress((buf.len() - before) as u64);
                if buf.len() < n {
                    return Err(Error::Truncated);
                }
            }
        }
    };
    observer.header_parsed(&header)?;
    let mut materials = prepare_materials(&header, options)?;
    keyring.on_decrypt(&mut materials, header.encrypted_data_keys())?;
    let mut body = MessageBody::new(header, materials, options)?;
    // The signature hash runs on a thread of its own (see `Verifying`).
    let verifying = body
        .detach_verifier()
        .map(|verifier| Verifying { verifier });
    let cipher = Arc::clone(body.frame_cipher());
    let work = |job: &mut OpenJob| job.open(&cipher);
    let writer = PlaintextWriter {
        output,
        held: None,
        written: 0,
    };
    let batch_len = match cipher.frame_length() as usize {
        // A non-framed body is one item, read whole whatever its length.
        0 => parallelism.batch_bytes,
        frame => parallelism.frames_per_batch(frame) * cipher.regular_frame_len(),
    };
    let mut carry = buf.split_off(header_len);
    let mut ciphertext_len = buf.len() as u64 + carry.len() as u64;
    drop(buf);
    let produce = |feeder: &mut Feeder<'_, OpenJob>| -> Result<((), Vec<u8>), Stop> {
        let mut need = 0;
        let mut signature = Vec::new();
        loop {
            let mut job = feeder
                .next_job()?
                .unwrap_or_else(|| OpenJob::new(batch_len));
            job.reset(&carry);
            carry.clear();
            let mut pos = 0;
            let mut done = false;
            let mut eof;
            loop {
                let target = batch_len.max(pos + need);
                let read = job.fill(&mut input, target)?;
                eof = job.filled < target;
                observer.progress(read as u64);
                ciphertext_len += read as u64;
                loop {
                    match body.next_item(&job.ciphertext[pos..job.filled])? {
                        BodyItem::Frame { part, seq, len } => {
                            job.frames.push(FrameRef {
                                part,
                                seq,
                                start: pos,
                                len,
                            });
                            job.holds_final |= part != BodyPart::RegularFrame;
                            pos += len;
                        }
                        BodyItem::Footer { len } => {
                            // Verified by `Verifying`, after the last frame.
                            signature = job.ciphertext[pos + 2..pos + len].to_vec();
                            pos += len;
                        }
                        BodyItem::Need(n) => {
                            need = n;
                            break;
                        }
                        BodyItem::End => {
                            done = true;
                            break;
                        }
                    }
                }
                // No whole frame yet means a frame longer than a batch:
                // read on.
                if done || eof || !job.frames.is_empty() {
                    break;
                }
            }
            if !done && eof {
                return Err(Error::Truncated.into());
            }
            carry.extend_from_slice(&job.ciphertext[pos..job.filled]);
            if !job.frames.is_empty() {
                feeder.submit(job)?;
            }
            if done {
                let mut probe = [0u8; 1];
                if read_full(&mut input, &mut probe)? != 0 {
                    return Err(Error::TrailingBytes.into());
                }
                return Ok(((), signature));
            }
        }
    };
    let capacity = parallelism.in_flight(batch_len);
    let ((), plaintext_len) = run(parallelism, capacity, produce, &work, verifying, writer)?;
    let (header, encryption_context) = body.into_parts();
    Ok(DecryptSummary {
        header,
        encryption_context,
        ciphertext_len,
        plaintext_len,
    })
}

/// A batch of plaintext to seal: whole frames, then, in the last batch, the
/// final frame (what is left, possibly nothing).
struct SealJob {
    plaintext: Zeroizing<Vec<u8>>,
    len: usize,
    first_seq: u32,
    last: bool,
    out: Vec<u8>,
}

impl SealJob {
    fn new(batch_len: usize, frame: usize) -> Self {
        let frames = batch_len / frame.max(1);
        let sealed = batch_len
            + frames * (FrameCipher::final_frame_len(0) - 8)
            + FrameCipher::final_frame_len(0);
        Self {
            plaintext: Zeroizing::new(vec![0; batch_len]),
            len: 0,
            first_seq: 1,
            last: false,
            out: Vec::with_capacity(sealed),
        }
    }

    fn seal(&mut self, cipher: &FrameCipher, frame: usize) -> Result<(), Error> {
        self.out.clear();
        let mut frames = self.plaintext[..self.len].chunks_exact(frame);
        let mut seq = self.first_seq;
        for plaintext in &mut frames {
            cipher.seal_regular(seq, plaintext, &mut self.out)?;
            seq = seq.checked_add(1).ok_or(Error::PlaintextTooLong)?;
        }
        if self.last {
            cipher.seal_final(seq, frames.remainder(), &mut self.out)?;
        } else if !frames.remainder().is_empty() {
            return Err(Error::InvalidMaterials("a batch ended inside a frame"));
        }
        Ok(())
    }
}

/// Where a frame lies in an [`OpenJob`]'s ciphertext.
#[derive(Debug, Clone, Copy)]
struct FrameRef {
    part: BodyPart,
    seq: u32,
    start: usize,
    len: usize,
}

/// A batch of whole frames to open.
struct OpenJob {
    /// `ciphertext[..filled]` holds input; the rest is room to read into.
    ciphertext: Vec<u8>,
    filled: usize,
    frames: Vec<FrameRef>,
    /// Whether the batch ends with the final frame (or is a non-framed
    /// body): its plaintext is held back until the message is verified.
    holds_final: bool,
    out: Zeroizing<Vec<u8>>,
}

impl OpenJob {
    fn new(batch_len: usize) -> Self {
        Self {
            ciphertext: vec![0; batch_len],
            filled: 0,
            frames: Vec::new(),
            holds_final: false,
            out: Zeroizing::new(Vec::with_capacity(batch_len)),
        }
    }

    /// Empties the job and starts it with `carry`, the start of an item.
    fn reset(&mut self, carry: &[u8]) {
        self.frames.clear();
        self.holds_final = false;
        if self.ciphertext.len() < carry.len() {
            self.ciphertext.resize(carry.len(), 0);
        }
        self.ciphertext[..carry.len()].copy_from_slice(carry);
        self.filled = carry.len();
    }

    /// Reads until `target` bytes are held or the input ends; returns how
    /// many bytes were read (0 only at the end of the input, or if the
    /// target was already met).
    fn fill<R: Read>(&mut self, input: &mut R, target: usize) -> io::Result<usize> {
        if self.ciphertext.len() < target {
            self.ciphertext.resize(target, 0);
        }
        let before = self.filled;
        while self.filled < target {
            match input.read(&mut self.ciphertext[self.filled..target]) {
                Ok(0) => break,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.filled - before)
    }

    fn open(&mut self, cipher: &FrameCipher) -> Result<(), Error> {
        let bound: usize = self.frames.iter().map(|f| f.len).sum();
        if self.out.capacity() < bound {
            // Never let the allocator free old plaintext unwiped.
            self.out.zeroize();
            *self.out = Vec::with_capacity(bound);
        }
        self.out.clear();
        for f in &self.frames {
            let frame = &self.ciphertext[f.start..f.start + f.len];
            MessageBody::open(cipher, f.part, f.seq, frame, &mut self.out)?;
        }
        Ok(())
    }
}

/// The writer thread's side of a pipeline.
trait Consumer<J> {
    type Output;
    /// Takes a finished job, in order; returns it to be reused, or keeps it.
    fn consume(&mut self, job: J) -> Result<Option<J>, Error>;
    /// Everything was read and consumed without error; `trailer` is what the
    /// in-order stage (if any) left to write.
    fn end(self, trailer: Vec<u8>) -> Result<Self::Output, Error>;
}

/// An in-order step between the workers and the writer, on a thread of its
/// own: the signature hash, the one computation over every byte that cannot
/// be split between threads. Given a thread, it runs beside the reading,
/// the writing and the AES work instead of after them.
trait Stage<J>: Send {
    fn pass(&mut self, job: &J) -> Result<(), Error>;
    /// After the last job: `trailer` is what the reader passed on; returns
    /// what the writer should write last.
    fn end(self, trailer: Vec<u8>) -> Result<Vec<u8>, Error>;
}

/// Encrypting a signed suite: hashes the sealed batches, then signs.
struct Signing {
    signer: Signer,
}

impl Stage<SealJob> for Signing {
    fn pass(&mut self, job: &SealJob) -> Result<(), Error> {
        self.signer.update(&job.out);
        Ok(())
    }

    /// The footer: the signature's length and the signature.
    fn end(self, _: Vec<u8>) -> Result<Vec<u8>, Error> {
        let signature = self.signer.finish().map_err(Error::Crypto)?;
        let len = u16::try_from(signature.len())
            .map_err(|_| Error::InvalidMaterials("signature too long"))?;
        let mut footer = len.to_be_bytes().to_vec();
        footer.extend_from_slice(&signature);
        Ok(footer)
    }
}

/// Decrypting a signed message: hashes the frames' ciphertext, then checks
/// the signature the reader found in the footer. Until it has, the writer
/// holds back the batch with the final frame.
struct Verifying {
    verifier: Verifier,
}

impl Stage<OpenJob> for Verifying {
    fn pass(&mut self, job: &OpenJob) -> Result<(), Error> {
        // The frames of a batch are contiguous.
        if let (Some(first), Some(last)) = (job.frames.first(), job.frames.last()) {
            self.verifier
                .update(&job.ciphertext[first.start..last.start + last.len]);
        }
        Ok(())
    }

    fn end(self, signature: Vec<u8>) -> Result<Vec<u8>, Error> {
        self.verifier
            .verify(&signature)
            .map_err(|_| Error::AuthenticationFailed)?;
        Ok(Vec::new())
    }
}

/// Writes sealed batches, then the footer.
struct SealedWriter<'w, W> {
    output: &'w mut W,
    written: u64,
}

impl<W: Write> Consumer<SealJob> for SealedWriter<'_, W> {
    type Output = u64;

    fn consume(&mut self, job: SealJob) -> Result<Option<SealJob>, Error> {
        self.output.write_all(&job.out)?;
        self.written += job.out.len() as u64;
        Ok(Some(job))
    }

    fn end(self, footer: Vec<u8>) -> Result<u64, Error> {
        self.output.write_all(&footer)?;
        self.output.flush()?;
        Ok(self.written + footer.len() as u64)
    }
}

/// Writes opened batches, holding back the one with the final frame.
struct PlaintextWriter<'w, W> {
    output: &'w mut W,
    held: Option<OpenJob>,
    written: u64,
}

impl<W: Write> Consumer<OpenJob> for PlaintextWriter<'_, W> {
    type Output = u64;

    fn consume(&mut self, job: OpenJob) -> Result<Option<OpenJob>, Error> {
        if job.holds_final {
            self.held = Some(job);
            return Ok(None);
        }
        self.output.write_all(&job.out)?;
        self.written += job.out.len() as u64;
        Ok(Some(job))
    }

    fn end(mut self, _: Vec<u8>) -> Result<u64, Error> {
        if let Some(job) = self.held.take() {
            self.output.write_all(&job.out)?;
            self.written += job.out.len() as u64;
        }
        self.output.flush()?;
        Ok(self.written)
    }
}

/// Why the reader stopped early.
#[derive(Debug)]
enum Stop {
    Failed(Error),
    /// The writer or the workers stopped (their error is the one to report).
    Downstream,
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Self::Failed(Error::Io(e))
    }
}

/// Why the writer (or a worker) stopped early.
#[derive(Debug)]
enum Halt {
    Failed(Error),
    /// Another thread failed first.
    Aborted,
    /// The reader stopped before the end (its error is the one to report).
    Upstream,
}

enum Ordered<J> {
    /// The reply slot of the next batch.
    Job(Receiver<Result<J, Halt>>),
    /// The reader finished without error, with this for the stage.
    End(Vec<u8>),
}

/// The next thing for the writer, in order.
enum Ready<J> {
    Job(J),
    End(Vec<u8>),
}

type Reply<J> = SyncSender<Result<J, Halt>>;

/// The reader's handle on the pipeline.
struct Feeder<'a, J> {
    jobs: SyncSender<(J, Reply<J>)>,
    order: SyncSender<Ordered<J>>,
    pool: Receiver<J>,
    created: usize,
    capacity: usize,
    abort: &'a AtomicBool,
}

impl<J> Feeder<'_, J> {
    /// A used job to refill, or `None` when the caller may create one.
    /// Waits while every job is in flight.
    fn next_job(&mut self) -> Result<Option<J>, Stop> {
        if self.abort.load(Ordering::Relaxed) {
            return Err(Stop::Downstream);
        }
        if self.created < self.capacity {
            self.created += 1;
            return Ok(None);
        }
        self.pool.recv().map(Some).map_err(|_| Stop::Downstream)
    }

    fn submit(&mut self, job: J) -> Result<(), Stop> {
        let (reply, slot) = sync_channel(1);
        self.order
            .send(Ordered::Job(slot))
            .map_err(|_| Stop::Downstream)?;
        self.jobs.send((job, reply)).map_err(|_| Stop::Downstream)
    }
}

/// Runs `produce` on the calling thread, `work` on the workers, `stage`
/// (if any) on a thread of its own and `consumer` on the writer thread, and
/// reports the first real failure.
fn run<J, T, P, S, C>(
    parallelism: &Parallelism,
    capacity: usize,
    produce: P,
    work: &(dyn Fn(&mut J) -> Result<(), Error> + Sync),
    stage: Option<S>,
    consumer: C,
) -> Result<(T, C::Output), Error>
where
    J: Send,
    P: FnOnce(&mut Feeder<'_, J>) -> Result<(T, Vec<u8>), Stop>,
    S: Stage<J>,
    C: Consumer<J> + Send,
    C::Output: Send,
{
    let abort = AtomicBool::new(false);
    let (jobs_tx, jobs_rx) = sync_channel::<(J, Reply<J>)>(capacity);
    let jobs_rx = Mutex::new(jobs_rx);
    let (order_tx, order_rx) = sync_channel::<Ordered<J>>(capacity);
    let (pool_tx, pool_rx) = sync_channel::<J>(capacity);
    std::thread::scope(|scope| {
        for _ in 0..parallelism.threads.max(1) {
            scope.spawn(|| work_loop(&jobs_rx, work, &abort));
        }
        let writer = match stage {
            Some(stage) => {
                let (ready_tx, ready_rx) = sync_channel::<Result<Ready<J>, Halt>>(capacity);
                scope.spawn(move || stage_loop(order_rx, stage, ready_tx));
                scope.spawn(|| {
                    let next = move || ready_rx.recv().unwrap_or(Err(Halt::Aborted));
                    finish_writer(write_loop(next, pool_tx, consumer), &abort)
                })
            }
            None => scope.spawn(|| {
                let next = move || next_ready(&order_rx);
                finish_writer(write_loop(next, pool_tx, consumer), &abort)
            }),
        };
        let mut feeder = Feeder {
            jobs: jobs_tx,
            order: order_tx,
            pool: pool_rx,
            created: 0,
            capacity,
            abort: &abort,
        };
        let produced = produce(&mut feeder);
        let produced = match produced {
            // If the writer is gone, its own result says why.
            Ok((t, trailer)) => {
                drop(feeder.order.send(Ordered::End(trailer)));
                Ok(t)
            }
            Err(e) => {
                abort.store(true, Ordering::Relaxed);
                Err(e)
            }
        };
        drop(feeder);
        let written = match writer.join() {
            Ok(w) => w,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        match (produced, written) {
            (Ok(t), Ok(out)) => Ok((t, out)),
            (_, Err(Halt::Failed(e))) | (Err(Stop::Failed(e)), _) => Err(e),
            _ => Err(Error::Poisoned),
        }
    })
}

fn finish_writer<T>(result: Result<T, Halt>, abort: &AtomicBool) -> Result<T, Halt> {
    if result.is_err() {
        abort.store(true, Ordering::Relaxed);
    }
    result
}

fn work_loop<J>(
    jobs: &Mutex<Receiver<(J, Reply<J>)>>,
    work: &(dyn Fn(&mut J) -> Result<(), Error> + Sync),
    abort: &AtomicBool,
) {
    loop {
        // The lock is held only while waiting for the next job.
        let next = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((mut job, reply)) = next else {
            return;
        };
        let result = if abort.load(Ordering::Relaxed) {
            Err(Halt::Aborted)
        } else {
            match work(&mut job) {
                Ok(()) => Ok(job),
                Err(e) => {
                    abort.store(true, Ordering::Relaxed);
                    Err(Halt::Failed(e))
                }
            }
        };
        // The writer may be gone after a failure; nothing to do then.
        let _ = reply.send(result);
    }
}

/// The next finished job, in order, or the end.
fn next_ready<J>(order: &Receiver<Ordered<J>>) -> Result<Ready<J>, Halt> {
    match order.recv() {
        Ok(Ordered::Job(slot)) => Ok(Ready::Job(slot.recv().map_err(|_| Halt::Aborted)??)),
        Ok(Ordered::End(trailer)) => Ok(Ready::End(trailer)),
        Err(_) => Err(Halt::Upstream),
    }
}

/// Runs `stage` over the jobs in order, passing them on to the writer.
fn stage_loop<J, S: Stage<J>>(
    order: Receiver<Ordered<J>>,
    mut stage: S,
    out: SyncSender<Result<Ready<J>, Halt>>,
) {
    loop {
        let step = match next_ready(&order) {
            Ok(Ready::Job(job)) => match stage.pass(&job) {
                Ok(()) => Ok(Ready::Job(job)),
                Err(e) => Err(Halt::Failed(e)),
            },
            Ok(Ready::End(trailer)) => {
                // The writer may be gone after a failure.
                let _ = out.send(stage.end(trailer).map(Ready::End).map_err(Halt::Failed));
                return;
            }
            Err(halt) => Err(halt),
        };
        let stop = step.is_err();
        if out.send(step).is_err() || stop {
            return;
        }
    }
}

fn write_loop<J, C: Consumer<J>>(
    mut next: impl FnMut() -> Result<Ready<J>, Halt>,
    pool: SyncSender<J>,
    mut consumer: C,
) -> Result<C::Output, Halt> {
    loop {
        match next()? {
            Ready::Job(job) => {
                if let Some(job) = consumer.consume(job).map_err(Halt::Failed)? {
                    // Never full: at most `capacity` jobs exist. The reader
                    // may be gone after a failure.
                    let _ = pool.send(job);
                }
            }
            Ready::End(trailer) => return consumer.end(trailer).map_err(Halt::Failed),
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Appends input to `buf` until it holds `target` bytes or the input ends,
/// reading at least 64 KiB at a time.
fn read_at_least<R: Read>(input: &mut R, buf: &mut Vec<u8>, target: usize) -> io::Result<()> {
    while buf.len() < target {
        let start = buf.len();
        buf.resize(target.max(start + (64 << 10)), 0);
        let n = match input.read(&mut buf[start..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                buf.truncate(start);
                continue;
            }
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        };
        buf.truncate(start + n);
        if n == 0 {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encrypt::EncryptOptions;
    use crate::keyring::RawAesKeyring;
    use crate::suite::{AlgorithmSuite, CommitmentPolicy};
    use custos_crypto::SecretBytes;

    fn keyring() -> RawAesKeyring {
        RawAesKeyring::new("ns", "k", &SecretBytes::new(vec![9; 32])).expect("keyring")
    }

    fn small(threads: usize) -> Parallelism {
        Parallelism {
            threads,
            batch_bytes: 300,
            batches_in_flight: 3,
            memory_budget: 32 << 20,
        }
    }

    /// A reader that returns at most `step` bytes per call.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn parallel_output_is_what_the_sequential_reader_accepts() {
        let kr = keyring();
        for suite in [
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
            AlgorithmSuite::Aes128GcmIv12Tag16NoKdf,
        ] {
            let policy = if suite.is_committing() {
                CommitmentPolicy::RequireEncryptRequireDecrypt
            } else {
                CommitmentPolicy::ForbidEncryptAllowDecrypt
            };
            for frame in [1u32, 7, 100, 1000] {
                for len in [0usize, 1, 99, 100, 101, 299, 300, 301, 1000, 5000] {
                    let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                    let options = EncryptOptions {
                        suite: Some(suite),
                        frame_length: frame,
                        commitment_policy: policy,
                        ..EncryptOptions::default()
                    };
                    let e = Encryptor::new(&kr, &options).expect("encryptor");
                    let mut ct = Vec::new();
                    let summary = encrypt_stream(
                        e,
                        Trickle {
                            data: &pt,
                            step: 77,
                        },
                        &mut ct,
                        &small(2),
                        &mut Unobserved,
                    )
                    .expect("encrypt");
                    assert_eq!(summary.plaintext_len, len as u64);
                    assert_eq!(summary.ciphertext_len, ct.len() as u64);
                    let d_options = DecryptOptions {
                        commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
                        ..DecryptOptions::default()
                    };
                    let back = crate::decrypt(&kr, d_options.clone(), &ct).expect("decrypt");
                    assert_eq!(
                        back.plaintext.expose_secret(),
                        &pt[..],
                        "{suite} {frame} {len}"
                    );
                    let mut out = Vec::new();
                    let summary = decrypt_stream(
                        &kr,
                        &d_options,
                        Trickle {
                            data: &ct,
                            step: 131,
                        },
                        &mut out,
                        &small(3),
                        &mut Unobserved,
                    )
                    .expect("parallel decrypt");
                    assert_eq!(out, pt, "{suite} {frame} {len}");
                    assert_eq!(summary.ciphertext_len, ct.len() as u64);
                    assert_eq!(summary.plaintext_len, len as u64);
                }
            }
        }
    }

    #[test]
    fn every_flipped_byte_and_every_truncation_fails() {
        let kr = keyring();
        let options = EncryptOptions {
            frame_length: 64,
            ..EncryptOptions::default()
        };
        let pt = vec![3u8; 300];
        let mut ct = Vec::new();
        let e = Encryptor::new(&kr, &options).expect("encryptor");
        encrypt_stream(e, &pt[..], &mut ct, &small(2), &mut Unobserved).expect("encrypt");
        let d = DecryptOptions::default();
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 0x20;
            let r = decrypt_stream(
                &kr,
                &d,
                &bad[..],
                &mut Vec::new(),
                &small(2),
                &mut Unobserved,
            );
            assert!(r.is_err(), "flipped byte {i}");
        }
        for cut in 0..ct.len() {
            let r = decrypt_stream(
                &kr,
                &d,
                &ct[..cut],
                &mut Vec::new(),
                &small(2),
                &mut Unobserved,
            );
            assert!(r.is_err(), "cut at {cut}");
        }
        let mut long = ct.clone();
        long.push(0);
        assert!(matches!(
            decrypt_stream(
                &kr,
                &d,
                &long[..],
                &mut Vec::new(),
                &small(2),
                &mut Unobserved
            ),
            Err(Error::TrailingBytes)
        ));
    }

    #[test]
    fn the_final_batch_is_held_back_until_the_signature_verifies() {
        let kr = keyring();
        let options = EncryptOptions {
            frame_length: 100,
            ..EncryptOptions::default()
        };
        let pt = vec![5u8; 1000];
        let mut ct = Vec::new();
        let e = Encryptor::new(&kr, &options).expect("encryptor");
        encrypt_stream(e, &pt[..], &mut ct, &small(2), &mut Unobserved).expect("encrypt");
        // Break the signature: everything before the final batch may have
        // been written, the final batch never.
        let last = ct.len() - 1;
        ct[last] ^= 1;
        let mut out = Vec::new();
        let r = decrypt_stream(
            &kr,
            &DecryptOptions::default(),
            &ct[..],
            &mut out,
            &small(1),
            &mut Unobserved,
        );
        assert!(matches!(r, Err(Error::AuthenticationFailed)));
        assert!(out.len() < pt.len(), "{}", out.len());
    }

    #[test]
    fn long_frames_mean_fewer_batches_in_flight() {
        let p = Parallelism::with_threads(2);
        assert_eq!(p.in_flight(1 << 20), 6);
        assert_eq!(p.in_flight(4 << 20), 4);
        assert_eq!(p.in_flight(16 << 20), 2);
        assert_eq!(p.in_flight(1 << 30), 2);
        assert_eq!(Parallelism::with_threads(64).in_flight(64 << 10), 130);
    }

    #[test]
    fn write_errors_are_reported() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let kr = keyring();
        let e = Encryptor::new(&kr, &EncryptOptions::default()).expect("encryptor");
        let pt = vec![0u8; 100_000];
        let r = encrypt_stream(e, &pt[..], &mut Broken, &small(2), &mut Unobserved);
        assert!(
            matches!(&r, Err(Error::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe),
            "{r:?}"
        );
    }

    #[test]
    fn memory_is_bounded_by_the_batches_in_flight() {
        // A reader that counts how far ahead of the writer it gets.
        use std::sync::atomic::AtomicU64;
        struct Counting<'a> {
            remaining: u64,
            read: &'a AtomicU64,
        }
        impl Read for Counting<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = (buf.len() as u64).min(self.remaining) as usize;
                buf[..n].fill(1);
                self.remaining -= n as u64;
                self.read.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
        }
        struct Checking<'a> {
            read: &'a AtomicU64,
            written: u64,
            max_ahead: u64,
        }
        impl Write for Checking<'_> {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                let ahead = self
                    .read
                    .load(Ordering::Relaxed)
                    .saturating_sub(self.written);
                self.max_ahead = self.max_ahead.max(ahead);
                self.written += buf.len() as u64;
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let kr = keyring();
        let options = EncryptOptions {
            suite: Some(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey),
            frame_length: 4096,
            ..EncryptOptions::default()
        };
        let par = Parallelism {
            threads: 2,
            batch_bytes: 64 << 10,
            batches_in_flight: 4,
            memory_budget: 32 << 20,
        };
        let read = AtomicU64::new(0);
        let mut out = Checking {
            read: &read,
            written: 0,
            max_ahead: 0,
        };
        let e = Encryptor::new(&kr, &options).expect("encryptor");
        let input = Counting {
            remaining: 64 << 20,
            read: &read,
        };
        encrypt_stream(e, input, &mut out, &par, &mut Unobserved).expect("encrypt");
        // Plaintext read but not yet written never exceeds the batches in
        // flight (plus the one being written).
        assert!(out.max_ahead <= 5 * (64 << 10), "{}", out.max_ahead);
    }
}
