//! Configuration: a TOML file, `CUSTOS_*` environment variables and
//! command-line flags. Flags override the environment, which overrides the
//! file, which overrides the defaults.
//!
//! The binary turns flags and environment into an [`Overrides`] (clap reads
//! both, flags first); [`Config::resolve`] lays it over the file.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use custos_crypto::SecretBytes;
use custos_kms::quotas::Quotas;
use custos_kms::{AccountId, Region};
use serde::Deserialize;

/// The file, as written by a user. Every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub account_id: Option<String>,
    pub regions: Option<Vec<String>>,
    #[serde(default)]
    pub tls: TlsFile,
    pub insecure_plain_http: Option<bool>,
    #[serde(default)]
    pub bootstrap: BootstrapFile,
    #[serde(default)]
    pub quotas: QuotasFile,
    #[serde(default)]
    pub audit: AuditFile,
    #[serde(default)]
    pub root_key: RootKeyFile,
    #[serde(default)]
    pub limits: LimitsFile,
}

/// `[limits]`: what clients may make the server hold (see
/// `docs/operations.md`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    pub max_connections: Option<usize>,
    pub max_connections_per_address: Option<usize>,
    pub body_budget_bytes: Option<usize>,
}

/// `[root_key]`: where the root key comes from (see
/// `docs/key-hierarchy.md`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootKeyFile {
    /// `file` (a development key file in the data directory, the default)
    /// or `passphrase`.
    pub provider: Option<String>,
    /// How a new store's passphrase becomes a key: `argon2id` (the
    /// default) or `pbkdf2` (FIPS). An existing store keeps its own.
    pub kdf: Option<String>,
    /// A file holding the passphrase (mode 0600); else
    /// `CUSTOS_ROOT_PASSPHRASE`.
    pub passphrase_file: Option<PathBuf>,
    /// Allows the development key file off loopback.
    pub allow_development_key: Option<bool>,
    /// For `kms`: the KMS key (ARN) that wraps the store key.
    pub kms_key_id: Option<String>,
    /// For `pkcs11`: the module (`/usr/lib/softhsm/libsofthsm2.so`), the
    /// token's label, the AES key's label, and a file holding the user PIN
    /// (mode 0600; else `CUSTOS_PKCS11_PIN`).
    pub pkcs11_module: Option<PathBuf>,
    pub pkcs11_token: Option<String>,
    pub pkcs11_key: Option<String>,
    pub pkcs11_pin_file: Option<PathBuf>,
}

/// `[audit]`: where the audit log is kept. Auditing is on unless
/// `enabled = false` is written here (for a benchmark), which the server
/// announces at start.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFile {
    pub dir: Option<PathBuf>,
    pub enabled: Option<bool>,
}

/// `[quotas]`: request quotas per account and region (see
/// `custos_kms::quotas`). Off unless configured.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotasFile {
    /// `none` (the default) or `aws`.
    pub preset: Option<String>,
    /// Requests per second by quota class, over the preset's.
    #[serde(default)]
    pub rates: std::collections::BTreeMap<String, f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub enable_tls12: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapFile {
    pub access_key_id: Option<String>,
    pub secret_access_key_file: Option<PathBuf>,
}

/// Values from flags or the environment; `None` means "not given".
#[derive(Debug, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub account_id: Option<String>,
    pub regions: Option<Vec<String>>,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    pub enable_tls12: Option<bool>,
    pub insecure_plain_http: Option<bool>,
    pub bootstrap_access_key_id: Option<String>,
    /// The secret itself (from `CUSTOS_BOOTSTRAP_SECRET_ACCESS_KEY`).
    pub bootstrap_secret_access_key: Option<SecretBytes>,
    pub bootstrap_secret_access_key_file: Option<PathBuf>,
    pub root_key: Option<String>,
    /// The passphrase itself (from `CUSTOS_ROOT_PASSPHRASE`).
    pub root_passphrase: Option<SecretBytes>,
    pub root_passphrase_file: Option<PathBuf>,
    pub allow_development_root_key: Option<bool>,
    pub root_key_id: Option<String>,
    pub pkcs11_module: Option<PathBuf>,
    pub pkcs11_token: Option<String>,
    pub pkcs11_key: Option<String>,
    /// The PIN itself (from `CUSTOS_PKCS11_PIN`).
    pub pkcs11_pin: Option<SecretBytes>,
    pub pkcs11_pin_file: Option<PathBuf>,
}

/// Where the root key comes from.
#[derive(Debug)]
pub enum RootKeySource {
    /// `<data dir>/root.key`, beside the data: for development, on
    /// loopback unless allowed explicitly.
    DevelopmentFile,
    /// Derived from an operator's passphrase.
    Passphrase {
        passphrase: SecretBytes,
        kdf: custos_kms::root_key::passphrase::Kdf,
    },
    /// A key of another AWS-KMS-compatible service (AWS KMS, another
    /// Custos), through its API: the `custos` binary makes the provider and
    /// hands it over as [`RootKeySource::Provided`].
    Kms { key_id: String },
    /// An AES key in a PKCS#11 token.
    Pkcs11 {
        module: PathBuf,
        token: String,
        key: String,
        pin: SecretBytes,
    },
    /// Shamir shares held by operators (`custos operator init`): the
    /// server starts sealed and opens when enough shares are entered.
    Shares,
    /// A provider made by the embedding program.
    Provided(std::sync::Arc<dyn custos_kms::root_key::RootKeyProvider>),
}

/// How TLS is set up.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// A certificate chain and key given by the operator (PEM files).
    Files { cert: PathBuf, key: PathBuf },
    /// A CA and server certificate generated into the data directory.
    Generated,
    /// No TLS: only with `insecure_plain_http`, only on loopback.
    PlainHttp,
}

/// The resolved configuration.
#[derive(Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub account_id: Option<AccountId>,
    pub regions: Vec<Region>,
    pub tls: TlsSource,
    pub enable_tls12: bool,
    /// Bootstrap credentials given explicitly, for test rigs.
    pub bootstrap: Option<(String, SecretBytes)>,
    /// Request quotas.
    pub quotas: Quotas,
    /// The audit log's directory; `None` only when auditing was turned
    /// off explicitly.
    pub audit_dir: Option<PathBuf>,
    pub root_key: RootKeySource,
    pub limits: crate::limits::Limits,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";
pub const DEFAULT_DATA_DIR: &str = "custos-data";
pub const DEFAULT_REGION: &str = "us-east-1";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("invalid value for {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(
        "{path} is readable by other users (mode {mode:o}); secrets must be in files only \
         their owner can read: run `chmod 600 {path}`"
    )]
    SecretFilePermissions { path: String, mode: u32 },
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.message().to_owned(),
        })
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        message: message.into(),
    }
}

/// Reads a secret from a file that only its owner may read.
pub fn read_secret_file(path: &Path) -> Result<SecretBytes, ConfigError> {
    let shown = path.display().to_string();
    let read_err = |source| ConfigError::Read {
        path: shown.clone(),
        source,
    };
    let mode = std::fs::metadata(path)
        .map_err(read_err)?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(ConfigError::SecretFilePermissions { path: shown, mode });
    }
    let mut bytes = SecretBytes::new(std::fs::read(path).map_err(read_err)?);
    // A trailing newline is an editor's, not part of the secret.
    let v = bytes.expose_secret_mut();
    while v.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        v.pop();
    }
    Ok(bytes)
}

impl Config {
    /// Lays `over` over `file` over the defaults, and checks the result.
    pub fn resolve(file: ConfigFile, over: Overrides) -> Result<Config, ConfigError> {
        let listen_text = over
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text
            .parse()
            .map_err(|_| invalid("listen", format!("'{listen_text}' is not an address:port")))?;
        let data_dir = over
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let account_id = match over.account_id.or(file.account_id) {
            Some(a) => Some(
                AccountId::parse(&a)
                    .ok_or_else(|| invalid("account_id", format!("'{a}' is not 12 digits")))?,
            ),
            None => None,
        };
        let region_names = over
            .regions
            .or(file.regions)
            .unwrap_or_else(|| vec![DEFAULT_REGION.to_owned()]);
        if region_names.is_empty() {
            return Err(invalid("regions", "at least one region must be served"));
        }
        let regions = region_names
            .iter()
            .map(|r| {
                Region::parse(r)
                    .ok_or_else(|| invalid("regions", format!("'{r}' is not a region name")))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let plain = over
            .insecure_plain_http
            .or(file.insecure_plain_http)
            .unwrap_or(false);
        let cert = over.tls_cert_file.or(file.tls.cert_file);
        let key = over.tls_key_file.or(file.tls.key_file);
        let tls = match (plain, cert, key) {
            (true, None, None) => {
                if !listen.ip().is_loopback() {
                    return Err(invalid(
                        "insecure_plain_http",
                        format!(
                            "plain HTTP is allowed only on a loopback address, not {}",
                            listen.ip()
                        ),
                    ));
                }
                TlsSource::PlainHttp
            }
            (true, _, _) => {
                return Err(invalid(
                    "insecure_plain_http",
                    "plain HTTP and TLS certificate files cannot both be given",
                ));
            }
            (false, Some(cert), Some(key)) => TlsSource::Files { cert, key },
            (false, None, None) => TlsSource::Generated,
            (false, _, _) => {
                return Err(invalid(
                    "tls",
                    "give both cert_file and key_file, or neither (to generate them)",
                ));
            }
        };
        let enable_tls12 = over.enable_tls12.or(file.tls.enable_tls12).unwrap_or(false);

        let access_key_id = over
            .bootstrap_access_key_id
            .or(file.bootstrap.access_key_id);
        let secret = match (
            over.bootstrap_secret_access_key,
            over.bootstrap_secret_access_key_file
                .or(file.bootstrap.secret_access_key_file),
        ) {
            (Some(s), _) => Some(s),
            (None, Some(path)) => Some(read_secret_file(&path)?),
            (None, None) => None,
        };
        let bootstrap = match (access_key_id, secret) {
            (Some(id), Some(secret)) => {
                if !custos_iam::valid_access_key_id(&id) {
                    return Err(invalid(
                        "bootstrap.access_key_id",
                        "16 to 128 letters and digits",
                    ));
                }
                if secret.len() < 16 {
                    return Err(invalid(
                        "bootstrap secret access key",
                        "at least 16 characters",
                    ));
                }
                Some((id, secret))
            }
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "bootstrap",
                    "give both the access key id and the secret access key, or neither",
                ));
            }
        };
        let mut quotas = Quotas::preset(file.quotas.preset.as_deref().unwrap_or("none"))
            .map_err(|e| invalid("quotas.preset", e.to_string()))?;
        for (class, rate) in &file.quotas.rates {
            quotas
                .set(class, *rate)
                .map_err(|e| invalid("quotas.rates", e.to_string()))?;
        }
        let audit_dir = match file.audit.enabled {
            Some(false) => None,
            _ => Some(file.audit.dir.unwrap_or_else(|| data_dir.join("audit"))),
        };
        let root_key = root_key_source(
            RootKeyOverrides {
                provider: over.root_key,
                passphrase: over.root_passphrase,
                passphrase_file: over.root_passphrase_file,
                allow_development: over.allow_development_root_key,
                key_id: over.root_key_id,
                pkcs11: Pkcs11Overrides {
                    module: over.pkcs11_module,
                    token: over.pkcs11_token,
                    key: over.pkcs11_key,
                    pin: over.pkcs11_pin,
                    pin_file: over.pkcs11_pin_file,
                },
            },
            file.root_key,
            listen,
        )?;
        let limits = limits(file.limits)?;
        Ok(Config {
            limits,
            audit_dir,
            root_key,
            listen,
            data_dir,
            account_id,
            regions,
            tls,
            enable_tls12,
            bootstrap,
            quotas,
        })
    }
}

fn limits(file: LimitsFile) -> Result<crate::limits::Limits, ConfigError> {
    let d = crate::limits::Limits::default();
    let at_least = |field, value: Option<usize>, min: usize, default| match value {
        Some(v) if v < min => Err(invalid(field, format!("at least {min}"))),
        Some(v) => Ok(v),
        None => Ok(default),
    };
    Ok(crate::limits::Limits {
        max_connections: at_least(
            "limits.max_connections",
            file.max_connections,
            1,
            d.max_connections,
        )?,
        max_connections_per_address: at_least(
            "limits.max_connections_per_address",
            file.max_connections_per_address,
            1,
            d.max_connections_per_address,
        )?,
        // At least one largest request.
        body_budget_bytes: at_least(
            "limits.body_budget_bytes",
            file.body_budget_bytes,
            crate::server::MAX_BODY_BYTES,
            d.body_budget_bytes,
        )?,
    })
}

/// The flags and environment about the root key.
struct RootKeyOverrides {
    provider: Option<String>,
    passphrase: Option<SecretBytes>,
    passphrase_file: Option<PathBuf>,
    allow_development: Option<bool>,
    key_id: Option<String>,
    pkcs11: Pkcs11Overrides,
}

/// The flags and environment about a PKCS#11 root key.
struct Pkcs11Overrides {
    module: Option<PathBuf>,
    token: Option<String>,
    key: Option<String>,
    pin: Option<SecretBytes>,
    pin_file: Option<PathBuf>,
}

/// The root key's source, from flags over the file.
fn root_key_source(
    over: RootKeyOverrides,
    file: RootKeyFile,
    listen: SocketAddr,
) -> Result<RootKeySource, ConfigError> {
    use custos_kms::root_key::passphrase::Kdf;
    let RootKeyOverrides {
        provider,
        passphrase,
        passphrase_file,
        allow_development,
        key_id,
        pkcs11,
    } = over;
    match provider.or(file.provider).as_deref().unwrap_or("file") {
        "file" => {
            let allowed = allow_development
                .or(file.allow_development_key)
                .unwrap_or(false);
            if !listen.ip().is_loopback() && !allowed {
                return Err(invalid(
                    "root_key.provider",
                    format!(
                        "the development root key (a file beside the data it protects) is \
                         allowed only on a loopback address, not {}: use `--root-key \
                         passphrase`, or `--allow-development-root-key` to accept the risk",
                        listen.ip()
                    ),
                ));
            }
            Ok(RootKeySource::DevelopmentFile)
        }
        "passphrase" => {
            let kdf = match file.kdf.as_deref().unwrap_or("argon2id") {
                "argon2id" => Kdf::ARGON2ID,
                "pbkdf2" => Kdf::PBKDF2,
                other => {
                    return Err(invalid(
                        "root_key.kdf",
                        format!("'{other}' is neither argon2id nor pbkdf2"),
                    ));
                }
            };
            let passphrase = match (passphrase, passphrase_file.or(file.passphrase_file)) {
                (Some(p), _) => p,
                (None, Some(path)) => read_secret_file(&path)?,
                (None, None) => {
                    return Err(invalid(
                        "root_key",
                        "the passphrase provider needs the passphrase: set \
                         CUSTOS_ROOT_PASSPHRASE or give --root-passphrase-file",
                    ));
                }
            };
            Ok(RootKeySource::Passphrase { passphrase, kdf })
        }
        "kms" => match key_id.or(file.kms_key_id) {
            Some(key_id) if !key_id.is_empty() => Ok(RootKeySource::Kms { key_id }),
            _ => Err(invalid(
                "root_key",
                "the kms provider needs the key that wraps the store key: give \
                 --root-key-id (an ARN)",
            )),
        },
        "pkcs11" => {
            let Pkcs11Overrides {
                module,
                token,
                key,
                pin,
                pin_file,
            } = pkcs11;
            let missing =
                |what: &str| invalid("root_key", format!("the pkcs11 provider needs {what}"));
            let module = module
                .or(file.pkcs11_module)
                .ok_or_else(|| missing("the module (--pkcs11-module)"))?;
            let token = token
                .or(file.pkcs11_token)
                .ok_or_else(|| missing("the token's label (--pkcs11-token)"))?;
            let key = key
                .or(file.pkcs11_key)
                .ok_or_else(|| missing("the key's label (--pkcs11-key)"))?;
            let pin = match (pin, pin_file.or(file.pkcs11_pin_file)) {
                (Some(p), _) => p,
                (None, Some(path)) => read_secret_file(&path)?,
                (None, None) => {
                    return Err(missing(
                        "the user PIN: set CUSTOS_PKCS11_PIN or give --pkcs11-pin-file",
                    ));
                }
            };
            Ok(RootKeySource::Pkcs11 {
                module,
                token,
                key,
                pin,
            })
        }
        "shares" => Ok(RootKeySource::Shares),
        other => Err(invalid(
            "root_key.provider",
            format!("'{other}' is not a provider (file, passphrase, kms, pkcs11, shares)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(toml_text: &str) -> ConfigFile {
        toml::from_str(toml_text).expect("toml")
    }

    #[test]
    fn defaults_are_zero_config() {
        let c = Config::resolve(ConfigFile::default(), Overrides::default()).expect("valid");
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.regions.len(), 1);
        assert!(matches!(c.tls, TlsSource::Generated));
        assert!(!c.enable_tls12);
        assert!(c.bootstrap.is_none());
    }

    #[test]
    fn quotas_are_off_by_default_and_read_from_the_file() {
        let c = Config::resolve(ConfigFile::default(), Overrides::default()).expect("valid");
        assert!(c.quotas.is_empty());
        let f =
            file("[quotas]\npreset = \"aws\"\n[quotas.rates]\nsymmetric = 20000\nCreateKey = 1\n");
        let c = Config::resolve(f, Overrides::default()).expect("valid");
        let mut want = Quotas::aws();
        want.set("symmetric", 20_000.0).expect("class");
        want.set("CreateKey", 1.0).expect("class");
        assert_eq!(c.quotas, want);
        for bad in [
            "[quotas]\npreset = \"fast\"\n",
            "[quotas.rates]\nEncrypt = 10\n",
            "[quotas.rates]\nsymmetric = -1\n",
        ] {
            assert!(
                matches!(
                    Config::resolve(file(bad), Overrides::default()),
                    Err(ConfigError::Invalid { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_root_key_source_is_checked() {
        use custos_kms::root_key::passphrase::Kdf;
        let c = Config::resolve(ConfigFile::default(), Overrides::default()).expect("valid");
        assert!(matches!(c.root_key, RootKeySource::DevelopmentFile));
        let with_passphrase = || Overrides {
            root_passphrase: Some(SecretBytes::from_slice(b"correct horse battery")),
            ..Overrides::default()
        };
        let c = Config::resolve(
            file(
                "[root_key]
provider = \"passphrase\"
kdf = \"pbkdf2\"
",
            ),
            with_passphrase(),
        )
        .expect("valid");
        assert!(matches!(
            c.root_key,
            RootKeySource::Passphrase {
                kdf: Kdf::PBKDF2,
                ..
            }
        ));
        for (text, over, field) in [
            (
                "[root_key]\nprovider = \"hsm\"\n",
                Overrides::default(),
                "root_key.provider",
            ),
            (
                "[root_key]\nprovider = \"passphrase\"\n",
                Overrides::default(),
                "root_key",
            ),
            (
                "[root_key]\nprovider = \"passphrase\"\nkdf = \"scrypt\"\n",
                with_passphrase(),
                "root_key.kdf",
            ),
            (
                "listen = \"0.0.0.0:8443\"\n",
                Overrides::default(),
                "root_key.provider",
            ),
        ] {
            match Config::resolve(file(text), over) {
                Err(ConfigError::Invalid { field: got, .. }) => assert_eq!(got, field, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let allowed = file("listen = \"0.0.0.0:8443\"\n[root_key]\nallow_development_key = true\n");
        assert!(Config::resolve(allowed, Overrides::default()).is_ok());
    }

    #[test]
    fn flags_and_env_override_the_file() {
        let f = file(
            "listen = \"127.0.0.1:1111\"\nregions = [\"eu-west-1\"]\naccount_id = \"111122223333\"",
        );
        let over = Overrides {
            listen: Some("127.0.0.1:2222".into()),
            ..Overrides::default()
        };
        let c = Config::resolve(f, over).expect("valid");
        assert_eq!(c.listen.port(), 2222);
        assert_eq!(c.regions[0].as_str(), "eu-west-1");
        assert_eq!(c.account_id.expect("account").as_str(), "111122223333");
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let over = |listen: &str| Overrides {
            listen: Some(listen.into()),
            insecure_plain_http: Some(true),
            ..Overrides::default()
        };
        assert!(matches!(
            Config::resolve(ConfigFile::default(), over("127.0.0.1:0"))
                .expect("loopback")
                .tls,
            TlsSource::PlainHttp
        ));
        assert!(Config::resolve(ConfigFile::default(), over("[::1]:0")).is_ok());
        assert!(Config::resolve(ConfigFile::default(), over("0.0.0.0:0")).is_err());
    }

    #[test]
    fn rejects_bad_values() {
        for t in [
            "account_id = \"12\"",
            "regions = []",
            "regions = [\"Mars\"]",
            "listen = \"nowhere\"",
            "[tls]\ncert_file = \"a.pem\"",
        ] {
            assert!(
                Config::resolve(file(t), Overrides::default()).is_err(),
                "{t}"
            );
        }
        assert!(toml::from_str::<ConfigFile>("unknown_key = 1").is_err());
    }

    #[test]
    fn secret_files_must_be_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secret");
        std::fs::write(&path, "abcdefghijklmnopqrstuvwxyz\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            read_secret_file(&path),
            Err(ConfigError::SecretFilePermissions { mode: 0o644, .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let s = read_secret_file(&path).expect("private");
        assert_eq!(s.expose_secret(), b"abcdefghijklmnopqrstuvwxyz");
    }
}
