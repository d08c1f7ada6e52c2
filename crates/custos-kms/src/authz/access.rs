//! The one path from a request to a key it may use.
//!
//! Every operation on a key asks for it with a [`KeyRequest`]: which key
//! (as the request named it, or as found through a ciphertext or an
//! alias), the [`Action`] (a type, never a string), the request's
//! condition keys, the key state the operation [`Need`]s, the key usage it
//! needs, and whether the request is a dry run. [`Kms::access`] then takes
//! the steps in AWS's order, always all of them and always in that order:
//!
//! 1. resolve the key (`NotFoundException` first, whatever the policies),
//!    and count the request against the caller's quota
//!    (`ThrottlingException`, `crate::quotas`);
//! 2. authorize (key policy, identity policies, grants: `crate::authz`);
//! 3. check the key's state (`DisabledException`, `KMSInvalidStateException`);
//! 4. check the key's usage (`InvalidKeyUsageException`);
//! 5. the operation's own checks (algorithms, sizes, and for operations
//!    whose input is only known good once used — a ciphertext, a peer's
//!    public key — the cryptography itself), given as a closure;
//! 6. stop a dry run (`DryRunOperationException`), the one place it is
//!    decided: a dry run passes every check a real request would and
//!    changes nothing.
//!
//! What comes back is an [`Authorized`]: the proof, which only this module
//! makes, that the caller may do the action on that key now. Unsealing key
//! material and changing a key record take the proof, so an operation
//! cannot reach a key's secrets or change it without having been through
//! every step.

use custos_store::{Batch, Engine};

use crate::authz::{Action, Caller, Conditions, request_alias};
use crate::grants::GrantRecord;
use crate::model::{KeyRecord, KeyState, KeyUsage};
use crate::{Kms, KmsError};

/// The key state an operation needs, with AWS's exceptions for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Cryptographic operations, grants, rotation changes: `Enabled` only.
    Enabled,
    /// Enabling, disabling, listing rotations: anything but pending
    /// deletion or pending import (AWS's key-state table).
    NotPending,
    /// Aliases, tags, descriptions, scheduling deletion: anything but
    /// pending deletion.
    NotPendingDeletion,
    /// Reading metadata, policies and rotation status, changing the
    /// policy, cancelling deletion: any state (an operation with its own
    /// state rule checks it after access).
    AnyState,
}

impl Need {
    /// Whether `key` is in a state this need allows, else AWS's error.
    pub(crate) fn check(self, key: &KeyRecord) -> Result<(), KmsError> {
        let refused = match (self, key.state) {
            (Need::AnyState, _) | (_, KeyState::Enabled) => return Ok(()),
            (Need::Enabled, KeyState::Disabled) => {
                return Err(KmsError::Disabled(format!("{} is disabled.", key.arn())));
            }
            (Need::Enabled, state) => state,
            (
                Need::NotPending,
                state @ (KeyState::PendingDeletion
                | KeyState::PendingReplicaDeletion
                | KeyState::PendingImport),
            ) => state,
            (
                Need::NotPendingDeletion,
                state @ (KeyState::PendingDeletion | KeyState::PendingReplicaDeletion),
            ) => state,
            _ => return Ok(()),
        };
        let what = match refused {
            KeyState::PendingDeletion => "pending deletion",
            KeyState::PendingImport => "pending import",
            other => other.as_str(),
        };
        Err(KmsError::InvalidState(format!("{} is {what}.", key.arn())))
    }
}

/// Where the key of a request comes from.
#[derive(Debug)]
pub(crate) enum KeySource<'a> {
    /// A `KeyId` member, in any of its four forms.
    Named(&'a str),
    /// A `KeyId` member that must be a key id or key ARN, never an alias
    /// (the tagging operations).
    NamedNotAlias(&'a str),
    /// A key found otherwise: through an alias record, or the key id in a
    /// ciphertext. `named` is the `KeyId` the request gave, if any; a
    /// ciphertext's key the request did not name is refused with AWS's
    /// vague text, which does not say whether the key exists.
    Found {
        key: Box<KeyRecord>,
        named: Option<&'a str>,
        from_ciphertext: bool,
    },
}

/// What an operation asks of one key. Built with [`KeyRequest::new`] and
/// the setters; given to [`Kms::access`].
#[derive(Debug)]
pub(crate) struct KeyRequest<'a> {
    action: Action,
    source: KeySource<'a>,
    conditions: Conditions<'a>,
    need: Need,
    usage: Option<KeyUsage>,
    dry_run: bool,
    /// Whether the request counts against the caller's quota (a request
    /// that reaches two keys counts once).
    counted: bool,
}

impl<'a> KeyRequest<'a> {
    /// `action` on the key `source`, needing an enabled key, with no
    /// request condition keys, not a dry run.
    pub(crate) fn new(action: Action, source: KeySource<'a>) -> Self {
        debug_assert!(
            action.is_on_key(),
            "{} is not an action on a key",
            action.name()
        );
        KeyRequest {
            action,
            source,
            conditions: Conditions::default(),
            need: Need::Enabled,
            usage: None,
            dry_run: false,
            // `ReEncrypt` counts once, as its `ReEncryptTo` half.
            counted: action != Action::ReEncryptFrom,
        }
    }

    /// The second key of a request that reaches two: not counted again
    /// against the caller's quota.
    pub(crate) fn uncounted(mut self) -> Self {
        self.counted = false;
        self
    }

    /// The request's condition keys (`kms:RequestAlias` is filled in from
    /// the `KeyId` here).
    pub(crate) fn conditions(mut self, conditions: Conditions<'a>) -> Self {
        self.conditions = conditions;
        self
    }

    pub(crate) fn need(mut self, need: Need) -> Self {
        self.need = need;
        self
    }

    /// The key usage the operation needs.
    pub(crate) fn usage(mut self, usage: KeyUsage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// The request's `DryRun` member.
    pub(crate) fn dry_run(mut self, dry_run: Option<bool>) -> Self {
        self.dry_run = dry_run == Some(true);
        self
    }
}

/// The proof that a caller may perform an action on a key, which was in
/// the state the action needs when it was checked. Only [`Kms::access`]
/// makes one.
#[derive(Debug)]
pub(crate) struct Authorized {
    key: KeyRecord,
    need: Need,
    grant: Option<GrantRecord>,
}

impl Authorized {
    pub(crate) fn key(&self) -> &KeyRecord {
        &self.key
    }

    pub(crate) fn into_key(self) -> KeyRecord {
        self.key
    }

    /// The grant that allowed the request, when policies alone did not.
    pub(crate) fn grant(&self) -> Option<&GrantRecord> {
        self.grant.as_ref()
    }

    /// A proof for a key the test itself set up.
    #[cfg(test)]
    pub(crate) fn for_test(key: KeyRecord) -> Self {
        Authorized {
            key,
            need: Need::AnyState,
            grant: None,
        }
    }
}

impl<E: Engine> Kms<E> {
    /// Resolves, authorizes and checks the key of `request`, in AWS's
    /// order, then runs the operation's own `check` and stops a dry run.
    /// Returns the proof and what `check` returned.
    pub(crate) async fn access_checked<T>(
        &self,
        caller: &Caller,
        request: KeyRequest<'_>,
        check: impl AsyncFnOnce(&Authorized) -> Result<T, KmsError>,
    ) -> Result<(Authorized, T), KmsError> {
        let KeyRequest {
            action,
            source,
            mut conditions,
            need,
            usage,
            dry_run,
            counted,
        } = request;
        let (key, named, vague) = match source {
            KeySource::Named(raw) => (self.resolve(caller, raw).await?, Some(raw), false),
            KeySource::NamedNotAlias(raw) => {
                if crate::names::KeyRef::parse(raw).is_ok_and(|r| r.is_alias()) {
                    return Err(KmsError::InvalidArn(
                        "Key Aliases are not supported for this operation".into(),
                    ));
                }
                (self.resolve(caller, raw).await?, Some(raw), false)
            }
            KeySource::Found {
                key,
                named,
                from_ciphertext,
            } => (*key, named, from_ciphertext && named.is_none()),
        };
        // Throttled before the decision: a request over its quota costs
        // no policy evaluation.
        if counted {
            self.take_quota(
                caller,
                action,
                Some((key.key_spec, key.key_usage)),
                conditions.data_key_pair_spec,
            )?;
        }
        if conditions.request_alias.is_none() {
            conditions.request_alias = named.and_then(request_alias);
        }
        let grant = self
            .authorize_by(caller, action, &key, &conditions)
            .await
            .map_err(|e| match e {
                KmsError::AccessDenied(_) if vague => crate::authz::unknown_key(caller, action),
                other => other,
            })?;
        need.check(&key)?;
        if let Some(usage) = usage {
            require_usage(&key, usage, action)?;
        }
        let authorized = Authorized { key, need, grant };
        let checked = check(&authorized).await?;
        stop_dry_run(dry_run)?;
        Ok((authorized, checked))
    }

    /// [`Kms::access_checked`] for an operation with no checks of its own.
    pub(crate) async fn access(
        &self,
        caller: &Caller,
        request: KeyRequest<'_>,
    ) -> Result<Authorized, KmsError> {
        Ok(self
            .access_checked(caller, request, async |_| Ok(()))
            .await?
            .0)
    }

    /// Changes the authorized key's record atomically (see
    /// `Kms::modify_key`): the state the action needs is checked again on
    /// the record as it is now, before `change` sees it.
    pub(crate) async fn modify<F>(
        &self,
        authorized: &Authorized,
        mut change: F,
    ) -> Result<KeyRecord, KmsError>
    where
        F: FnMut(&mut KeyRecord, &mut Batch) -> Result<(), KmsError>,
    {
        let need = authorized.need;
        self.modify_key(&authorized.key, |k, batch| {
            need.check(k)?;
            change(k, batch)
        })
        .await
    }
}

/// Where a dry run ends: after every check a real request makes, before
/// anything changes. `RetireGrant`, which is authorized by the grant rather
/// than by a key's policies, is the one caller besides [`Kms::access`].
pub(crate) fn stop_dry_run(dry_run: bool) -> Result<(), KmsError> {
    if dry_run {
        Err(KmsError::DryRun)
    } else {
        Ok(())
    }
}

/// The usage check, with AWS's message, which names the operation.
fn require_usage(key: &KeyRecord, usage: KeyUsage, action: Action) -> Result<(), KmsError> {
    if key.key_usage == usage {
        return Ok(());
    }
    // AWS names `ReEncrypt` for both of its halves.
    let operation = match action {
        Action::ReEncryptFrom | Action::ReEncryptTo => "ReEncrypt",
        other => other.name().trim_start_matches("kms:"),
    };
    Err(KmsError::InvalidKeyUsage(format!(
        "{} key usage is {} which is not valid for {operation}.",
        key.arn(),
        key.key_usage.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_key() -> KeyRecord {
        crate::keys::decode_key(include_bytes!("../../tests/fixtures/key-record-v1.json"))
            .expect("key record v1")
    }

    #[test]
    fn needs_refuse_the_states_aws_refuses() {
        let key = |state| {
            let mut k = sample_key();
            k.state = state;
            k
        };
        let enabled = key(KeyState::Enabled);
        let disabled = key(KeyState::Disabled);
        let deleting = key(KeyState::PendingDeletion);
        let importing = key(KeyState::PendingImport);
        for need in [
            Need::Enabled,
            Need::NotPending,
            Need::NotPendingDeletion,
            Need::AnyState,
        ] {
            assert!(need.check(&enabled).is_ok(), "{need:?} allows Enabled");
        }
        assert!(matches!(
            Need::Enabled.check(&disabled),
            Err(KmsError::Disabled(m)) if m.ends_with(" is disabled.")
        ));
        assert!(matches!(
            Need::Enabled.check(&deleting),
            Err(KmsError::InvalidState(m)) if m.ends_with(" is pending deletion.")
        ));
        assert!(matches!(
            Need::Enabled.check(&importing),
            Err(KmsError::InvalidState(m)) if m.ends_with(" is pending import.")
        ));
        assert!(Need::NotPending.check(&disabled).is_ok());
        assert!(Need::NotPending.check(&deleting).is_err());
        assert!(Need::NotPending.check(&importing).is_err());
        assert!(Need::NotPendingDeletion.check(&disabled).is_ok());
        assert!(Need::NotPendingDeletion.check(&importing).is_ok());
        assert!(Need::NotPendingDeletion.check(&deleting).is_err());
        for state in [disabled, deleting, importing] {
            assert!(Need::AnyState.check(&state).is_ok());
        }
    }

    #[test]
    fn usage_refusals_name_the_operation() {
        let key = sample_key();
        let err =
            require_usage(&key, KeyUsage::SignVerify, Action::ReEncryptTo).expect_err("usage");
        assert!(
            matches!(err, KmsError::InvalidKeyUsage(m) if m.ends_with("not valid for ReEncrypt."))
        );
        let err = require_usage(&key, KeyUsage::SignVerify, Action::Sign).expect_err("usage");
        assert!(matches!(err, KmsError::InvalidKeyUsage(m) if m.ends_with("not valid for Sign.")));
    }
}
