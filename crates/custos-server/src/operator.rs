//! The operator socket: a Unix socket in the data directory
//! (`operator.sock`, mode 0600) through which `custos operator status`,
//! `unseal` and `seal` reach a running server.
//!
//! Why a local socket rather than an HTTPS endpoint: unsealing happens
//! before any identity can be verified (the identities are sealed too),
//! so the only authentication available is the operating system's. Only
//! the data directory's owner (and root) may connect; the kernel's peer
//! credentials are checked on every connection, and the user id is what
//! the audit log records as the operator.
//!
//! The protocol is one line each way: a command (`status`, `seal`,
//! `unseal`, `unseal <share>`, `backup`), then a JSON answer (see
//! [`Reply`]); after a `backup`'s answer come the backup's bytes.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;
use zeroize::Zeroizing;

use crate::seal::{Node, SealStatus};

/// The longest command line read (a share is about 100 characters).
const MAX_LINE: usize = 4096;
/// How long a client may take to send its command.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The socket's name in the data directory.
pub const SOCKET_NAME: &str = "operator.sock";

/// The answer to one command.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    /// Why the command failed; absent on success.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    pub status: SealStatus,
    /// For `backup`: the length of the sealed backup that follows the
    /// answer's line.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub backup_bytes: Option<u64>,
    /// What followed the line (the backup).
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// Binds the socket (replacing a stale one: the store's lock, taken
/// first, proves no other server uses this data directory) readable and
/// writable by its owner only.
pub(crate) fn bind(path: &Path) -> std::io::Result<UnixListener> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Answers operators until shutdown.
pub(crate) async fn serve(
    listener: UnixListener,
    node: Arc<Node>,
    owner_uid: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let node = Arc::clone(&node);
                    tokio::spawn(async move { one(stream, &node, owner_uid).await });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "operator socket: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
}

async fn one(stream: UnixStream, node: &Node, owner_uid: u32) {
    let uid = match stream.peer_cred() {
        Ok(cred) => cred.uid(),
        Err(_) => return,
    };
    if uid != owner_uid && uid != 0 {
        tracing::warn!(uid, "operator socket: connection from another user refused");
        return;
    }
    let operator = format!("uid:{uid}");
    let (mut read, mut write) = stream.into_split();
    let Ok(Ok(line)) = tokio::time::timeout(READ_TIMEOUT, read_line(&mut read)).await else {
        return;
    };
    if line.is_empty() {
        return;
    }
    let reply = command(node, line.trim_ascii(), &operator).await;
    let mut out = serde_json::to_vec(&reply).unwrap_or_default();
    out.push(b'\n');
    if write.write_all(&out).await.is_ok() && !reply.data.is_empty() {
        let _ = write.write_all(&reply.data).await;
    }
}

/// Reads up to a newline (or [`MAX_LINE`] bytes) straight into a buffer
/// wiped on drop: the line may hold a share, so it passes through no
/// other buffer (a `BufReader`'s would keep a copy).
async fn read_line(
    read: &mut tokio::net::unix::OwnedReadHalf,
) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut line = Zeroizing::new(vec![0u8; MAX_LINE]);
    let mut filled = 0;
    while filled < MAX_LINE {
        let n = read.read(&mut line[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
        if line[filled - n..filled].contains(&b'\n') {
            break;
        }
    }
    line.truncate(filled);
    Ok(line)
}

async fn command(node: &Node, line: &[u8], operator: &str) -> Reply {
    let (verb, rest) = match line.iter().position(|b| *b == b' ') {
        Some(i) => (&line[..i], Some(line[i + 1..].trim_ascii())),
        None => (line, None),
    };
    if verb == b"backup" {
        return match node.backup(operator).await {
            Ok(data) => Reply {
                error: None,
                status: node.status().await,
                backup_bytes: Some(data.len() as u64),
                data,
            },
            Err(e) => Reply {
                error: Some(e.to_string()),
                status: node.status().await,
                backup_bytes: None,
                data: Vec::new(),
            },
        };
    }
    let result = match verb {
        b"status" => Ok(node.status().await),
        b"seal" => Ok(node.seal(operator).await),
        b"unseal" => node
            .unseal(rest.filter(|r| !r.is_empty()), operator)
            .await
            .map_err(|e| e.to_string()),
        _ => Err("unknown command (status, unseal, seal, backup)".to_owned()),
    };
    let (error, status) = match result {
        Ok(status) => (None, status),
        Err(error) => (Some(error), node.status().await),
    };
    Reply {
        error,
        status,
        backup_bytes: None,
        data: Vec::new(),
    }
}

/// Sends one command to the server whose operator socket is `path`
/// (for `custos operator`).
pub async fn request(path: &Path, command: &[u8]) -> std::io::Result<Reply> {
    let mut stream = UnixStream::connect(path).await?;
    let mut line = Zeroizing::new(command.to_vec());
    line.push(b'\n');
    stream.write_all(&line).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let not_understood =
        || std::io::Error::other("the server's answer is not understood (is it a Custos server?)");
    let end = answer
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(not_understood)?;
    let mut reply: Reply = serde_json::from_slice(&answer[..end]).map_err(|_| not_understood())?;
    reply.data = answer.split_off(end + 1);
    if reply.backup_bytes.unwrap_or(0) != reply.data.len() as u64 {
        return Err(std::io::Error::other("the server's answer was cut short"));
    }
    Ok(reply)
}

/// The user id owning `dir`: who may use the operator socket besides root.
pub(crate) fn owner_of(dir: &Path) -> std::io::Result<u32> {
    Ok(std::fs::metadata(dir)?.uid())
}
