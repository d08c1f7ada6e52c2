//! STS: the three actions Custos answers (`AssumeRole`, `GetSessionToken`,
//! `GetCallerIdentity`), their requests parsed from [`Params`] and their
//! responses encoded as STS's XML (namespace
//! `https://sts.amazonaws.com/doc/2011-06-15/`).

use custos_crypto::SecretBytes;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::{IamError, IamErrorCode};
use crate::form::Params;
use crate::shapes::Tag;
use crate::validate::{
    EXTERNAL_ID, Fields, ROLE_SESSION_NAME, SERIAL_NUMBER, SESSION_POLICY, SOURCE_IDENTITY,
    STS_ARN, TAG_KEY, TOKEN_CODE, request,
};
use crate::xml::XmlWriter;

/// The STS actions Custos answers.
pub const STS_ACTIONS: &[&str] = &["AssumeRole", "GetSessionToken", "GetCallerIdentity"];

/// Any STS request Custos understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StsRequest {
    AssumeRole(AssumeRoleRequest),
    GetSessionToken(GetSessionTokenRequest),
    GetCallerIdentity,
}

impl StsRequest {
    /// Parses a request as [`crate::IamRequest::parse`] does, for version
    /// `2011-06-15`.
    pub fn parse(params: &Params) -> Result<StsRequest, IamError> {
        let Some(action) = params.action() else {
            return Err(IamError::new(
                IamErrorCode::MissingAction,
                "The request must contain the parameter Action.",
            ));
        };
        if params.version() != Some(crate::STS_VERSION) {
            return Err(IamError::unknown_operation(action, params.version()));
        }
        let mut f = Fields::new(params);
        let request = match action {
            "AssumeRole" => StsRequest::AssumeRole(AssumeRoleRequest::read(&mut f)),
            "GetSessionToken" => StsRequest::GetSessionToken(GetSessionTokenRequest::read(&mut f)),
            "GetCallerIdentity" => StsRequest::GetCallerIdentity,
            _ => return Err(IamError::unknown_operation(action, params.version())),
        };
        f.finish()?;
        Ok(request)
    }

    /// The action's name; prefixed with `sts:` it is the action a policy
    /// names.
    pub fn action(&self) -> &'static str {
        match self {
            StsRequest::AssumeRole(_) => "AssumeRole",
            StsRequest::GetSessionToken(_) => "GetSessionToken",
            StsRequest::GetCallerIdentity => "GetCallerIdentity",
        }
    }
}

request! {
    /// `policy_arns` are the `arn` members of `PolicyArns.member.N`. The
    /// model bounds the session duration to 900..=43200; the role's own
    /// maximum is the domain's to enforce.
    AssumeRoleRequest {
        role_arn: String = required("RoleArn", STS_ARN),
        role_session_name: String = required("RoleSessionName", ROLE_SESSION_NAME),
        policy_arns: Vec<String> = field_list("PolicyArns", "arn", STS_ARN),
        policy: Option<String> = string("Policy", SESSION_POLICY),
        duration_seconds: Option<u32> = integer("DurationSeconds", 900, 43200),
        tags: Vec<Tag> = tags("Tags"),
        transitive_tag_keys: Vec<String> = strings("TransitiveTagKeys", TAG_KEY, Some(50)),
        external_id: Option<String> = string("ExternalId", EXTERNAL_ID),
        serial_number: Option<String> = string("SerialNumber", SERIAL_NUMBER),
        token_code: Option<String> = string("TokenCode", TOKEN_CODE),
        source_identity: Option<String> = string("SourceIdentity", SOURCE_IDENTITY),
    }
}

request! {
    GetSessionTokenRequest {
        duration_seconds: Option<u32> = integer("DurationSeconds", 900, 129_600),
        serial_number: Option<String> = string("SerialNumber", SERIAL_NUMBER),
        token_code: Option<String> = string("TokenCode", TOKEN_CODE),
    }
}

/// Temporary credentials. `Debug` shows the secret's length only; the
/// session token is not secret on its own (it is useless without the
/// secret key) but is left out of `Debug` all the same.
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: SecretBytes,
    pub session_token: String,
    pub expiration: OffsetDateTime,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &"[REDACTED]")
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// The assumed-role principal: `AROA…:session` and
/// `arn:aws:sts::account:assumed-role/name/session`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedRoleUser {
    pub assumed_role_id: String,
    pub arn: String,
}

#[derive(Debug)]
pub struct AssumeRoleResponse {
    pub credentials: Credentials,
    pub assumed_role_user: AssumedRoleUser,
    /// Percentage of the packed session policy limit used, when session
    /// policies or tags were passed.
    pub packed_policy_size: Option<u32>,
    pub source_identity: Option<String>,
}

#[derive(Debug)]
pub struct GetSessionTokenResponse {
    pub credentials: Credentials,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetCallerIdentityResponse {
    pub user_id: String,
    pub account: String,
    pub arn: String,
}

/// The response to any STS action.
#[derive(Debug)]
pub enum StsResponse {
    AssumeRole(AssumeRoleResponse),
    GetSessionToken(GetSessionTokenResponse),
    GetCallerIdentity(GetCallerIdentityResponse),
}

impl StsResponse {
    pub fn action(&self) -> &'static str {
        match self {
            StsResponse::AssumeRole(_) => "AssumeRole",
            StsResponse::GetSessionToken(_) => "GetSessionToken",
            StsResponse::GetCallerIdentity(_) => "GetCallerIdentity",
        }
    }

    /// The whole response document, in a buffer wiped on drop: two of the
    /// three carry a secret access key.
    pub fn to_xml(&self, request_id: &str) -> Zeroizing<String> {
        let action = self.action();
        let root = format!("{action}Response");
        let result = format!("{action}Result");
        let mut w = XmlWriter::new();
        w.open_root(&root, crate::STS_XMLNS);
        w.open(&result);
        match self {
            StsResponse::AssumeRole(r) => {
                write_credentials(&mut w, &r.credentials);
                w.open("AssumedRoleUser");
                w.element("AssumedRoleId", &r.assumed_role_user.assumed_role_id);
                w.element("Arn", &r.assumed_role_user.arn);
                w.close("AssumedRoleUser");
                if let Some(size) = r.packed_policy_size {
                    w.number("PackedPolicySize", size.into());
                }
                w.optional("SourceIdentity", r.source_identity.as_deref());
            }
            StsResponse::GetSessionToken(r) => write_credentials(&mut w, &r.credentials),
            StsResponse::GetCallerIdentity(r) => {
                w.element("UserId", &r.user_id);
                w.element("Account", &r.account);
                w.element("Arn", &r.arn);
            }
        }
        w.close(&result);
        w.metadata(request_id);
        w.close(&root);
        w.finish()
    }
}

fn write_credentials(w: &mut XmlWriter, c: &Credentials) {
    w.open("Credentials");
    w.element("AccessKeyId", &c.access_key_id);
    w.secret("SecretAccessKey", c.secret_access_key.expose_secret());
    w.element("SessionToken", &c.session_token);
    w.date("Expiration", c.expiration);
    w.close("Credentials");
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failure is a panic")]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::form::parse_form;
    use crate::xml::leaves;

    fn parse(body: &str) -> Result<StsRequest, IamError> {
        StsRequest::parse(&parse_form(body.as_bytes()).unwrap())
    }

    fn credentials() -> Credentials {
        Credentials {
            access_key_id: "ASIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: SecretBytes::new(b"secret/key+value".to_vec()),
            session_token: "token".into(),
            expiration: datetime!(2026-12-04 17:08:35 UTC),
        }
    }

    #[test]
    fn assume_role_round_trip() {
        let r = parse(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/ops\
             &RoleSessionName=alice%40laptop&DurationSeconds=3600&ExternalId=ext-1\
             &PolicyArns.member.1.arn=arn:aws:iam::123456789012:policy/a\
             &Tags.member.1.Key=project&Tags.member.1.Value=x&TransitiveTagKeys.member.1=project\
             &SerialNumber=arn:aws:iam::123456789012:mfa/alice&TokenCode=123456&SourceIdentity=alice",
        )
        .unwrap();
        assert_eq!(
            r,
            StsRequest::AssumeRole(AssumeRoleRequest {
                role_arn: "arn:aws:iam::123456789012:role/ops".into(),
                role_session_name: "alice@laptop".into(),
                policy_arns: vec!["arn:aws:iam::123456789012:policy/a".into()],
                policy: None,
                duration_seconds: Some(3600),
                tags: vec![Tag {
                    key: "project".into(),
                    value: "x".into()
                }],
                transitive_tag_keys: vec!["project".into()],
                external_id: Some("ext-1".into()),
                serial_number: Some("arn:aws:iam::123456789012:mfa/alice".into()),
                token_code: Some("123456".into()),
                source_identity: Some("alice".into()),
            })
        );
        assert_eq!(r.action(), "AssumeRole");
    }

    #[test]
    fn assume_role_constraints_are_the_models() {
        let e = parse(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/ops\
             &RoleSessionName=PowerUser%2Falice",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value 'PowerUser/alice' at 'roleSessionName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        );
        let e = parse("Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/xxxxxxx")
            .unwrap_err();
        assert!(
            e.message.contains("Value null at 'roleSessionName'"),
            "{}",
            e.message
        );
        let e = parse(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/ops\
             &RoleSessionName=s&DurationSeconds=43201",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "2 validation errors detected: Value 's' at 'roleSessionName' failed to satisfy constraint: \
             Member must have length greater than or equal to 2; Value '43201' at 'durationSeconds' \
             failed to satisfy constraint: Member must have value less than or equal to 43200"
        );
        let e =
            parse("Action=AssumeRole&Version=2011-06-15&RoleArn=&RoleSessionName=ab").unwrap_err();
        assert!(
            e.message
                .starts_with("2 validation errors detected: Value '' at 'roleArn'")
        );
    }

    #[test]
    fn get_session_token_and_caller_identity() {
        assert_eq!(
            parse("Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129600").unwrap(),
            StsRequest::GetSessionToken(GetSessionTokenRequest {
                duration_seconds: Some(129_600),
                serial_number: None,
                token_code: None,
            })
        );
        assert!(parse("Action=GetSessionToken&Version=2011-06-15&DurationSeconds=899").is_err());
        assert!(parse("Action=GetSessionToken&Version=2011-06-15&TokenCode=12345a").is_err());
        assert_eq!(
            parse("Action=GetCallerIdentity&Version=2011-06-15").unwrap(),
            StsRequest::GetCallerIdentity
        );
        let e = parse("Action=GetCallerIdentity&Version=2010-05-08").unwrap_err();
        assert_eq!(e.code, IamErrorCode::InvalidAction);
        let e = parse("Action=AssumeRoleWithSAML&Version=2011-06-15").unwrap_err();
        assert_eq!(
            e.message,
            "Could not find operation AssumeRoleWithSAML for version 2011-06-15"
        );
    }

    #[test]
    fn responses_are_sts_documents() {
        let xml = StsResponse::GetCallerIdentity(GetCallerIdentityResponse {
            user_id: "AIDAEXAMPLE".into(),
            account: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
        })
        .to_xml("rid");
        assert_eq!(
            xml.as_str(),
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <GetCallerIdentityResult><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>\
             <Arn>arn:aws:iam::123456789012:user/alice</Arn></GetCallerIdentityResult>\
             <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
        );

        let response = StsResponse::AssumeRole(AssumeRoleResponse {
            credentials: credentials(),
            assumed_role_user: AssumedRoleUser {
                assumed_role_id: "AROAEXAMPLE:alice".into(),
                arn: "arn:aws:sts::123456789012:assumed-role/ops/alice".into(),
            },
            packed_policy_size: Some(6),
            source_identity: None,
        });
        let debug = format!("{response:?}");
        assert!(
            !debug.contains("secret/key") && !debug.contains("\"token\""),
            "{debug}"
        );
        let l = leaves(&response.to_xml("r"));
        let at = "AssumeRoleResponse/AssumeRoleResult/";
        let get = |p: &str| {
            l.iter()
                .find(|(k, _)| k == &format!("{at}{p}"))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            get("Credentials/SecretAccessKey").as_deref(),
            Some("secret/key+value")
        );
        assert_eq!(get("Credentials/SessionToken").as_deref(), Some("token"));
        assert_eq!(
            get("Credentials/Expiration").as_deref(),
            Some("2026-12-04T17:08:35Z")
        );
        assert_eq!(
            get("AssumedRoleUser/Arn").as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/ops/alice")
        );
        assert_eq!(get("PackedPolicySize").as_deref(), Some("6"));

        let token = StsResponse::GetSessionToken(GetSessionTokenResponse {
            credentials: credentials(),
        })
        .to_xml("r");
        assert!(token.contains(
            "<GetSessionTokenResult><Credentials><AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>"
        ));
    }
}
