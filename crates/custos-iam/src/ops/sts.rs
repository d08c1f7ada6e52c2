//! STS: `AssumeRole`, `GetSessionToken`, `GetCallerIdentity`.
//!
//! `AssumeRole` is allowed when the role's trust policy allows the caller
//! and nothing denies it: a trust policy that names the caller itself (or
//! its role) suffices within one account; one that names only the
//! caller's account (`arn:aws:iam::<account>:root`) delegates to the
//! caller's identity policies, which must allow `sts:AssumeRole` on the
//! role, as must they whenever the role is in another account. A role
//! that does not exist is refused the same way as one that does not
//! trust the caller, as on AWS.
//!
//! Session credentials are minted statelessly (see `crate::session`):
//! no store write per session.

use std::borrow::Cow;

use custos_iam_wire::{
    AssumeRoleRequest, AssumeRoleResponse, AssumedRoleUser, Credentials, GetCallerIdentityResponse,
    GetSessionTokenRequest, GetSessionTokenResponse, StsRequest, StsResponse,
};
use custos_policy::{Effect, Policy, PolicyKind, Request};
use custos_store::Engine;

use super::{date, validate_policy};
use crate::authorize::{caller_context, decide, policy_principal};
use crate::caller::{Caller, Principal};
use crate::ids::{self, IdKind};
use crate::session::{self, SessionClaims, SessionPrincipal};
use crate::{AccountId, Iam, IamError, arn};

/// `AssumeRole`'s default session length.
const DEFAULT_ROLE_SESSION: u32 = 3600;
/// The longest session a role session may get by assuming another role.
const ROLE_CHAINING_MAX: u32 = 3600;
/// `GetSessionToken`'s default and maximum session lengths.
const DEFAULT_USER_SESSION: u32 = 43_200;
/// The packed size AWS allows session policies and tags, in characters.
const PACKED_LIMIT: usize = 2048;

impl<E: Engine> Iam<E> {
    /// Runs one STS request for `caller`.
    pub async fn sts_request(
        &self,
        caller: &Caller,
        request: StsRequest,
    ) -> Result<StsResponse, IamError> {
        match request {
            StsRequest::AssumeRole(r) => self.assume_role(caller, r).await,
            StsRequest::GetSessionToken(r) => self.get_session_token(caller, r).await,
            StsRequest::GetCallerIdentity => {
                Ok(StsResponse::GetCallerIdentity(GetCallerIdentityResponse {
                    user_id: caller.principal().user_id(),
                    account: caller.account().to_string(),
                    arn: caller.principal_arn().to_owned(),
                }))
            }
        }
    }

    async fn assume_role(
        &self,
        caller: &Caller,
        r: AssumeRoleRequest,
    ) -> Result<StsResponse, IamError> {
        let denied = || {
            IamError::AccessDenied(format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                caller.principal_arn(),
                r.role_arn
            ))
        };
        let Some((account, _path, role_name)) = arn::parse(&r.role_arn, "role") else {
            return Err(IamError::Validation(format!("{} is invalid", r.role_arn)));
        };
        let account = AccountId::parse(account).ok_or_else(denied)?;
        let Some(role) = self.role_record(&account, role_name).await? else {
            return Err(denied());
        };
        let role = role.record;
        let role_arn = arn::role(&account, &role.path, &role.name);
        if role_arn != r.role_arn {
            // The path in the request does not match the role's.
            return Err(denied());
        }

        // The decision: trust policy and the caller's own policies.
        let now_ms = self.now_ms();
        let mut context = caller_context(caller, now_ms);
        if let Some(id) = &r.external_id {
            context.insert("sts:ExternalId", id.as_str());
        }
        context.insert("sts:RoleSessionName", r.role_session_name.as_str());
        if let Some(s) = &r.source_identity {
            context.insert("sts:SourceIdentity", s.as_str());
        }
        for t in &r.tags {
            context.insert(
                Cow::Owned(format!("aws:RequestTag/{}", t.key)),
                t.value.as_str(),
            );
        }
        if !r.tags.is_empty() {
            context.insert_many("aws:TagKeys", r.tags.iter().map(|t| t.key.as_str()));
        }
        let request = Request::new(
            "sts:AssumeRole",
            &role_arn,
            custos_policy::Principal::Aws(policy_principal(caller)),
            &context,
        );
        let trust = Policy::parse(&role.trust_policy, PolicyKind::Trust).map_err(|_| {
            IamError::Corrupt {
                what: format!("trust policy of role {}", role.name),
            }
        })?;
        let trusted_directly = match trust.evaluate(&request) {
            Effect::Deny | Effect::NotApplicable => return Err(denied()),
            Effect::Allow => true,
            Effect::AccountAllow => false,
        };
        let same_account = &account == caller.account();
        let identity = decide(caller, &request);
        let allowed = match identity {
            Ok(()) => true,
            Err(crate::authorize::Refusal::NoIdentityAllow) => trusted_directly && same_account,
            Err(_) => false,
        };
        if !allowed {
            return Err(denied());
        }

        // The session.
        let chained = matches!(caller.principal(), Principal::AssumedRole { .. });
        let duration = r.duration_seconds.unwrap_or(DEFAULT_ROLE_SESSION);
        if chained && duration > ROLE_CHAINING_MAX {
            return Err(IamError::Validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".into(),
            ));
        }
        if duration > role.max_session_duration {
            return Err(IamError::Validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                    .into(),
            ));
        }
        if let Some(p) = &r.policy {
            validate_policy(p, PolicyKind::Session, PACKED_LIMIT)?;
        }
        for policy_arn in &r.policy_arns {
            self.require_policy(&account, policy_arn).await?;
        }
        let packed = r.policy.as_ref().map_or(0, String::len)
            + r.tags
                .iter()
                .map(|t| t.key.len() + t.value.len())
                .sum::<usize>();
        if packed > PACKED_LIMIT {
            return Err(IamError::PackedPolicyTooLarge(format!(
                "Packed size of session policies and tags exceeds the limit ({}%).",
                packed * 100 / PACKED_LIMIT
            )));
        }
        let access_key_id = ids::generate(IdKind::SessionKey)?;
        let secret = ids::generate_secret()?;
        let expires_ms = now_ms + i64::from(duration) * 1000;
        let claims = SessionClaims {
            access_key_id: access_key_id.clone(),
            secret: String::from_utf8_lossy(secret.expose_secret()).into_owned(),
            account_id: account.to_string(),
            principal: SessionPrincipal::Role {
                role_name: role.name.clone(),
                role_id: role.role_id.clone(),
                role_path: role.path.clone(),
                session_name: r.role_session_name.clone(),
            },
            issued_ms: now_ms,
            expires_ms,
            policy: r.policy.clone(),
            policy_arns: r.policy_arns.clone(),
            tags: r
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect(),
            source_identity: r.source_identity.clone(),
        };
        let session_token = session::mint(&self.sealer, &claims)?;
        Ok(StsResponse::AssumeRole(AssumeRoleResponse {
            credentials: Credentials {
                access_key_id,
                secret_access_key: secret,
                session_token,
                expiration: date(expires_ms),
            },
            assumed_role_user: AssumedRoleUser {
                assumed_role_id: format!("{}:{}", role.role_id, r.role_session_name),
                arn: arn::assumed_role(&account, &role.name, &r.role_session_name),
            },
            packed_policy_size: (r.policy.is_some() || !r.tags.is_empty())
                .then(|| u32::try_from(packed * 100 / PACKED_LIMIT).unwrap_or(100)),
            source_identity: r.source_identity,
        }))
    }

    async fn get_session_token(
        &self,
        caller: &Caller,
        r: GetSessionTokenRequest,
    ) -> Result<StsResponse, IamError> {
        let Principal::User { name, user_id, .. } = caller.principal() else {
            return Err(IamError::AccessDenied(
                "Cannot call GetSessionToken with session credentials".into(),
            ));
        };
        let account = caller.account();
        let user = self
            .user_record(account, name)
            .await?
            .filter(|u| &u.record.user_id == user_id)
            .ok_or_else(|| super::users::no_such_user(name))?;
        let now_ms = self.now_ms();
        let duration = r.duration_seconds.unwrap_or(DEFAULT_USER_SESSION);
        let access_key_id = ids::generate(IdKind::SessionKey)?;
        let secret = ids::generate_secret()?;
        let expires_ms = now_ms + i64::from(duration) * 1000;
        let claims = SessionClaims {
            access_key_id: access_key_id.clone(),
            secret: String::from_utf8_lossy(secret.expose_secret()).into_owned(),
            account_id: account.to_string(),
            principal: SessionPrincipal::User {
                user_name: user.record.name.clone(),
                user_id: user.record.user_id.clone(),
                user_path: user.record.path.clone(),
            },
            issued_ms: now_ms,
            expires_ms,
            policy: None,
            policy_arns: Vec::new(),
            tags: Vec::new(),
            source_identity: None,
        };
        let session_token = session::mint(&self.sealer, &claims)?;
        Ok(StsResponse::GetSessionToken(GetSessionTokenResponse {
            credentials: Credentials {
                access_key_id,
                secret_access_key: secret,
                session_token,
                expiration: date(expires_ms),
            },
        }))
    }
}
