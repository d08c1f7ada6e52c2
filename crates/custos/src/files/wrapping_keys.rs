//! `-w` / `--wrapping-keys`: which keys wrap the data key, in the style of
//! `aws-encryption-cli`.
//!
//! Each `-w` is one provider configuration, a list of `name=value`
//! attributes:
//!
//! | provider | attributes |
//! | --- | --- |
//! | `aws-kms` (the default) | `key=` (repeatable: key ID, key ARN, alias name or alias ARN when encrypting; key ARN when decrypting), `region=`, `profile=`, `discovery=true` (decrypt only) with optionally `discovery-partition=` and `discovery-account=` (repeatable) |
//! | `raw-aes` | `key-file=` (exactly 16, 24 or 32 bytes, mode 0600), `name=`, `namespace=` (default `custos`) |
//! | `raw-rsa` | `public-key=` (PEM, to encrypt) and/or `private-key=` (PEM PKCS #8, mode 0600, to decrypt), `name=`, `namespace=` (default `custos`), `padding=` (`oaep-sha256` default, `oaep-sha1`, `oaep-sha384`, `oaep-sha512`, `pkcs1`) |
//!
//! Encrypting, the first key generates the data key and every other key
//! wraps it too: the file can be decrypted with any one of them.
//! Decrypting, each key is tried in turn on the data keys it can use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use custos_crypto::SecretBytes;
use custos_crypto::rsa::RsaPadding;
use custos_envelope::{Keyring, MultiKeyring, RawAesKeyring, RawRsaKeyring};

use crate::aws_kms::Kms;
use crate::aws_kms::arn::{KmsArn, ResourceType};
use crate::aws_kms::keyring::{AwsKmsDiscoveryKeyring, AwsKmsKeyring, DiscoveryFilter, Target};

/// The namespace (key provider ID) of raw keys when none is given.
const DEFAULT_NAMESPACE: &str = "custos";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Encrypt,
    Decrypt,
}

/// One `-w` group, parsed.
struct Attributes {
    pairs: Vec<(String, String)>,
}

impl Attributes {
    fn parse(group: &[String]) -> anyhow::Result<Self> {
        let mut pairs = Vec::new();
        for item in group {
            let Some((k, v)) = item.split_once('=') else {
                bail!("-w {item:?}: expected name=value (for example key=alias/app)");
            };
            pairs.push((k.trim().to_owned(), v.to_owned()));
        }
        Ok(Self { pairs })
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn one(&self, name: &str) -> anyhow::Result<Option<&str>> {
        match self.all(name).as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => bail!("-w: {name}= may be given only once per -w"),
        }
    }

    fn only(&self, provider: &str, allowed: &[&str]) -> anyhow::Result<()> {
        if let Some((k, _)) = self
            .pairs
            .iter()
            .find(|(k, _)| k != "provider" && !allowed.contains(&k.as_str()))
        {
            bail!(
                "-w: {k}= is not an attribute of provider={provider} (it takes: {})",
                allowed.join("=, ") + "="
            );
        }
        Ok(())
    }
}

/// Builds the keyring the `-w` groups describe. KMS clients are created on
/// first use only.
pub(crate) fn keyring(groups: &[Vec<String>], mode: Mode) -> anyhow::Result<Arc<dyn Keyring>> {
    let mut keyrings: Vec<Arc<dyn Keyring>> = Vec::new();
    let mut kms: Option<Arc<Kms>> = None;
    for group in groups {
        let attrs = Attributes::parse(group)?;
        let provider = attrs.one("provider")?.unwrap_or("aws-kms");
        match provider {
            "aws-kms" | "aws-encryption-sdk-cli::aws-kms" => {
                let kms = match &kms {
                    Some(k) => Arc::clone(k),
                    None => {
                        let k = Arc::new(Kms::new()?);
                        kms = Some(Arc::clone(&k));
                        k
                    }
                };
                aws_kms(&attrs, mode, kms, &mut keyrings)?;
            }
            "raw-aes" => keyrings.push(Arc::new(raw_aes(&attrs)?)),
            "raw-rsa" => keyrings.push(Arc::new(raw_rsa(&attrs, mode)?)),
            other => bail!("-w provider={other}: unknown provider (aws-kms, raw-aes or raw-rsa)"),
        }
    }
    let mut all = keyrings.into_iter();
    let Some(first) = all.next() else {
        bail!("no wrapping key: give at least one with -w");
    };
    Ok(match mode {
        Mode::Encrypt => Arc::new(MultiKeyring::new(Some(first), all.collect())),
        Mode::Decrypt => {
            let mut children = vec![first];
            children.extend(all);
            Arc::new(MultiKeyring::new(None, children))
        }
    })
}

fn aws_kms(
    attrs: &Attributes,
    mode: Mode,
    kms: Arc<Kms>,
    out: &mut Vec<Arc<dyn Keyring>>,
) -> anyhow::Result<()> {
    attrs.only(
        "aws-kms",
        &[
            "key",
            "region",
            "profile",
            "discovery",
            "discovery-account",
            "discovery-partition",
        ],
    )?;
    let keys = attrs.all("key");
    let target = Target {
        profile: attrs.one("profile")?.map(str::to_owned),
        region: attrs.one("region")?.map(str::to_owned),
    };
    let discovery = match attrs.one("discovery")? {
        None => false,
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" | "y" => true,
            "false" | "f" | "0" | "no" | "n" => false,
            _ => bail!("-w discovery={v}: expected true or false"),
        },
    };
    let accounts = attrs.all("discovery-account");
    let partition = attrs.one("discovery-partition")?;
    if !discovery && (partition.is_some() || !accounts.is_empty()) {
        bail!("-w: discovery-account= and discovery-partition= need discovery=true");
    }
    if discovery {
        if mode == Mode::Encrypt {
            bail!(
                "-w discovery=true: discovery can only decrypt; name the keys to encrypt with key="
            );
        }
        if !keys.is_empty() {
            bail!(
                "-w: discovery=true uses whatever key the file names; drop key= or discovery=true"
            );
        }
        let filter = match (partition, accounts.as_slice()) {
            (None, []) => None,
            (Some(p), accounts) if !p.is_empty() && !accounts.is_empty() => {
                if accounts.iter().any(|a| a.is_empty()) {
                    bail!("-w: discovery-account= cannot be empty");
                }
                Some(DiscoveryFilter {
                    partition: p.to_owned(),
                    accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
                })
            }
            _ => bail!(
                "-w: a discovery filter needs both discovery-partition= (for example aws) and \
                 at least one discovery-account="
            ),
        };
        out.push(Arc::new(AwsKmsDiscoveryKeyring::new(
            kms,
            filter,
            target.profile,
        )));
        return Ok(());
    }
    if keys.is_empty() {
        bail!(match mode {
            Mode::Encrypt => "-w: name a KMS key with key=<key ID, key ARN or alias>",
            Mode::Decrypt =>
                "-w: name the KMS key with key=<key ARN>, or use any key the file names with \
                 discovery=true",
        });
    }
    for key in keys {
        if key.is_empty() {
            bail!("-w: key= cannot be empty");
        }
        if mode == Mode::Decrypt {
            // Files record the key ARN; anything else would never match.
            match KmsArn::parse(key) {
                Some(arn) if arn.resource_type == ResourceType::Key => {}
                _ => bail!(
                    "-w key={key}: decrypting needs the key ARN \
                     (arn:aws:kms:REGION:ACCOUNT:key/ID), which is what the file records; \
                     or use discovery=true"
                ),
            }
        }
        out.push(Arc::new(AwsKmsKeyring::new(
            Arc::clone(&kms),
            key.to_owned(),
            target.clone(),
        )));
    }
    Ok(())
}

fn names(attrs: &Attributes, provider: &str) -> anyhow::Result<(String, String)> {
    let Some(name) = attrs.one("name")? else {
        bail!(
            "-w provider={provider}: give the key a name with name= (it is recorded in the file)"
        );
    };
    let namespace = attrs.one("namespace")?.unwrap_or(DEFAULT_NAMESPACE);
    Ok((namespace.to_owned(), name.to_owned()))
}

fn raw_aes(attrs: &Attributes) -> anyhow::Result<RawAesKeyring> {
    attrs.only("raw-aes", &["key-file", "name", "namespace"])?;
    let (namespace, name) = names(attrs, "raw-aes")?;
    let Some(path) = attrs.one("key-file")? else {
        bail!("-w provider=raw-aes: give the key with key-file=<file of 16, 24 or 32 bytes>");
    };
    let key = read_secret_file(Path::new(path))?;
    if !matches!(key.len(), 16 | 24 | 32) {
        bail!(
            "{path}: a raw AES key file holds exactly 16, 24 or 32 bytes, not {} \
             (make one with: head -c 32 /dev/urandom > {path})",
            key.len()
        );
    }
    RawAesKeyring::new(&namespace, &name, &key).with_context(|| format!("-w key-file={path}"))
}

fn raw_rsa(attrs: &Attributes, mode: Mode) -> anyhow::Result<RawRsaKeyring> {
    attrs.only(
        "raw-rsa",
        &["public-key", "private-key", "name", "namespace", "padding"],
    )?;
    let (namespace, name) = names(attrs, "raw-rsa")?;
    let padding = match attrs.one("padding")?.unwrap_or("oaep-sha256") {
        "oaep-sha1" => RsaPadding::OaepSha1,
        "oaep-sha256" => RsaPadding::OaepSha256,
        "oaep-sha384" => RsaPadding::OaepSha384,
        "oaep-sha512" => RsaPadding::OaepSha512,
        "pkcs1" => RsaPadding::Pkcs1v15,
        other => bail!(
            "-w padding={other}: expected oaep-sha256, oaep-sha1, oaep-sha384, oaep-sha512 or pkcs1"
        ),
    };
    let public = attrs
        .one("public-key")?
        .map(|p| {
            std::fs::read_to_string(p).with_context(|| format!("cannot read the public key {p}"))
        })
        .transpose()?;
    let private = attrs
        .one("private-key")?
        .map(|p| -> anyhow::Result<String> {
            let bytes = read_secret_file(Path::new(p))?;
            String::from_utf8(bytes.expose_secret().to_vec())
                .map_err(|_| anyhow::anyhow!("{p}: not a PEM file"))
        })
        .transpose()?;
    match mode {
        Mode::Encrypt if public.is_none() => {
            bail!("-w provider=raw-rsa: encrypting needs public-key=<PEM file>")
        }
        Mode::Decrypt if private.is_none() => {
            bail!("-w provider=raw-rsa: decrypting needs private-key=<PEM file>")
        }
        _ => {}
    }
    RawRsaKeyring::from_pem(
        &namespace,
        &name,
        padding,
        public.as_deref(),
        private.as_deref(),
    )
    .context("-w provider=raw-rsa")
}

/// Reads a file of key material, refusing one that other users can read
/// or write: a key anyone can read protects nothing.
fn read_secret_file(path: &Path) -> anyhow::Result<SecretBytes> {
    let display = path.display();
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read the key file {display}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "the key file {display} is accessible to other users (mode {mode:o}): \
                 chmod 600 {display}"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let bytes = std::fs::read(PathBuf::from(path))
        .with_context(|| format!("cannot read the key file {display}"))?;
    Ok(SecretBytes::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(items: &[&str]) -> Vec<Vec<String>> {
        vec![items.iter().map(|s| (*s).to_owned()).collect()]
    }

    fn err(groups: Vec<Vec<String>>, mode: Mode) -> String {
        format!("{:#}", keyring(&groups, mode).expect_err("refused"))
    }

    #[test]
    fn refuses_inconsistent_configurations() {
        assert!(err(w(&["key"]), Mode::Encrypt).contains("expected name=value"));
        assert!(err(w(&["provider=x"]), Mode::Encrypt).contains("unknown provider"));
        assert!(err(w(&["discovery=true"]), Mode::Encrypt).contains("can only decrypt"));
        assert!(
            err(w(&["discovery=true", "key=k"]), Mode::Decrypt).contains("drop key= or discovery")
        );
        assert!(
            err(w(&["discovery=true", "discovery-account=1"]), Mode::Decrypt)
                .contains("needs both")
        );
        assert!(err(w(&["discovery-account=1"]), Mode::Decrypt).contains("need discovery=true"));
        assert!(err(w(&["key=alias/app"]), Mode::Decrypt).contains("needs the key ARN"));
        assert!(err(w(&["discovery=maybe"]), Mode::Decrypt).contains("true or false"));
        assert!(err(w(&["provider=raw-aes", "name=n"]), Mode::Encrypt).contains("key-file="));
        assert!(err(w(&["provider=raw-aes", "key-file=/x"]), Mode::Encrypt).contains("name="));
        assert!(
            err(w(&["provider=raw-aes", "name=n", "key=k"]), Mode::Encrypt)
                .contains("not an attribute")
        );
        assert!(err(vec![], Mode::Encrypt).contains("no wrapping key"));
    }

    #[test]
    fn key_files_must_be_private_and_the_right_size() {
        let d = tempfile::tempdir().expect("tempdir");
        let key = d.path().join("k");
        std::fs::write(&key, [7u8; 32]).expect("write");
        let arg = format!("key-file={}", key.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert!(
                err(w(&["provider=raw-aes", "name=n", &arg]), Mode::Encrypt).contains("chmod 600")
            );
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        assert!(keyring(&w(&["provider=raw-aes", "name=n", &arg]), Mode::Encrypt).is_ok());
        std::fs::write(&key, [7u8; 33]).expect("write");
        assert!(
            err(w(&["provider=raw-aes", "name=n", &arg]), Mode::Encrypt)
                .contains("exactly 16, 24 or 32 bytes")
        );
    }
}
