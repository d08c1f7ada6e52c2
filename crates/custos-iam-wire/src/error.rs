//! IAM and STS error codes with their HTTP status and fault, and the XML
//! error body both services send:
//!
//! ```text
//! <ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
//!   <Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>…</Message></Error>
//!   <RequestId>…</RequestId>
//! </ErrorResponse>
//! ```
//!
//! Codes and statuses of the modeled errors are those of botocore's
//! service models (`error.code`, `error.httpStatusCode`, `senderFault`);
//! the others are AWS's common Query-protocol errors.

use std::fmt;

use crate::form::WireError;
use crate::xml::XmlWriter;
use crate::{IAM_XMLNS, STS_XMLNS};

/// Who is at fault, the `<Type>` of the error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    Sender,
    Receiver,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        }
    }
}

/// Which of the two Query services answers; decides the XML namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Iam,
    Sts,
}

impl Service {
    /// The `xmlns` of every response and error body.
    pub fn xmlns(self) -> &'static str {
        match self {
            Service::Iam => IAM_XMLNS,
            Service::Sts => STS_XMLNS,
        }
    }

    /// The API version the `Version` parameter must name.
    pub fn version(self) -> &'static str {
        match self {
            Service::Iam => crate::IAM_VERSION,
            Service::Sts => crate::STS_VERSION,
        }
    }

    /// The service a request is for, decided by its `Version` and, when
    /// that is absent or unknown, by whether its `Action` is an STS action;
    /// everything else is IAM's (which then reports the bad action or
    /// version).
    pub fn of(params: &crate::Params) -> Service {
        match params.version() {
            Some(crate::STS_VERSION) => Service::Sts,
            Some(crate::IAM_VERSION) => Service::Iam,
            _ if params
                .action()
                .is_some_and(|a| crate::sts::STS_ACTIONS.contains(&a)) =>
            {
                Service::Sts
            }
            _ => Service::Iam,
        }
    }
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident = $status:literal $fault:ident ),* $(,)?) => {
        /// Every error code Custos puts on the IAM and STS wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum IamErrorCode {
            $( $(#[$doc])* $name, )*
        }

        impl IamErrorCode {
            /// All codes, for exhaustive tests.
            pub const ALL: &'static [IamErrorCode] = &[$(IamErrorCode::$name),*];

            /// The `<Code>`, which the SDKs match on.
            pub fn code(self) -> &'static str {
                match self { $(IamErrorCode::$name => stringify!($name),)* }
            }

            /// The HTTP status.
            pub fn status(self) -> u16 {
                match self { $(IamErrorCode::$name => $status,)* }
            }

            /// The `<Type>`.
            pub fn fault(self) -> Fault {
                match self { $(IamErrorCode::$name => Fault::$fault,)* }
            }
        }
    };
}

error_codes! {
    // Modeled IAM errors (iam/2010-05-08/service-2.json).
    ConcurrentModification = 409 Sender,
    DeleteConflict = 409 Sender,
    EntityAlreadyExists = 409 Sender,
    EntityTemporarilyUnmodifiable = 409 Sender,
    InvalidAuthenticationCode = 403 Sender,
    InvalidInput = 400 Sender,
    LimitExceeded = 409 Sender,
    MalformedPolicyDocument = 400 Sender,
    NoSuchEntity = 404 Sender,
    PolicyEvaluation = 500 Receiver,
    PolicyNotAttachable = 400 Sender,
    ServiceFailure = 500 Receiver,
    UnmodifiableEntity = 400 Sender,
    // Modeled STS errors (sts/2011-06-15/service-2.json). The model's code
    // for an expired *web identity or SAML* token keeps the `Exception`
    // suffix, unlike `ExpiredToken` below.
    ExpiredTokenException = 400 Sender,
    PackedPolicyTooLarge = 400 Sender,
    RegionDisabledException = 403 Sender,
    // Common errors of AWS Query services.
    /// IAM's and STS's authorization failure (not `AccessDeniedException`).
    AccessDenied = 403 Sender,
    /// The session token used to sign the request has expired.
    ExpiredToken = 403 Sender,
    IncompleteSignature = 400 Sender,
    InternalFailure = 500 Receiver,
    InvalidAction = 400 Sender,
    InvalidClientTokenId = 403 Sender,
    InvalidParameterCombination = 400 Sender,
    InvalidParameterValue = 400 Sender,
    InvalidQueryParameter = 400 Sender,
    MalformedQueryString = 404 Sender,
    MissingAction = 400 Sender,
    MissingAuthenticationToken = 403 Sender,
    MissingParameter = 400 Sender,
    OptInRequired = 403 Sender,
    RequestExpired = 400 Sender,
    ServiceUnavailable = 503 Receiver,
    SignatureDoesNotMatch = 403 Sender,
    Throttling = 400 Sender,
    ValidationError = 400 Sender,
}

impl fmt::Display for IamErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An error as it goes on the wire, for IAM and STS alike. The message is
/// sent to the client: it must never carry internal detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct IamError {
    pub code: IamErrorCode,
    pub message: String,
}

impl IamError {
    pub fn new(code: IamErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    pub fn fault(&self) -> Fault {
        self.code.fault()
    }

    /// `InvalidAction` for an action the service does not have, or a
    /// version it does not speak; worded as AWS words it.
    pub fn unknown_operation(action: &str, version: Option<&str>) -> Self {
        let version = version.unwrap_or("NO_VERSION_SPECIFIED");
        Self::new(
            IamErrorCode::InvalidAction,
            format!("Could not find operation {action} for version {version}"),
        )
    }

    /// `ServiceFailure` with a fixed message: the cause is logged, never
    /// sent.
    pub fn service_failure() -> Self {
        Self::new(
            IamErrorCode::ServiceFailure,
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }

    /// The XML error body. `<Type>`, `<Code>`, `<Message>` inside `<Error>`,
    /// then `<RequestId>` beside it, as IAM and STS send it and botocore's
    /// query parser reads it.
    pub fn to_xml(&self, service: Service, request_id: &str) -> String {
        let mut w = XmlWriter::new();
        w.open_root("ErrorResponse", service.xmlns());
        w.open("Error");
        w.element("Type", self.fault().as_str());
        w.element("Code", self.code.code());
        w.element("Message", &self.message);
        w.close("Error");
        w.element("RequestId", request_id);
        w.close("ErrorResponse");
        w.finish().to_string()
    }
}

impl From<WireError> for IamError {
    fn from(e: WireError) -> Self {
        // The request never reached the service model: AWS calls this a
        // malformed query.
        IamError::new(IamErrorCode::InvalidQueryParameter, e.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failure is a panic")]
mod tests {
    use super::*;

    /// Every code with its status and fault, checked against botocore's
    /// models (modeled errors) and AWS's common-errors page (the rest).
    const TABLE: &[(IamErrorCode, &str, u16, Fault)] = &[
        (
            IamErrorCode::ConcurrentModification,
            "ConcurrentModification",
            409,
            Fault::Sender,
        ),
        (
            IamErrorCode::DeleteConflict,
            "DeleteConflict",
            409,
            Fault::Sender,
        ),
        (
            IamErrorCode::EntityAlreadyExists,
            "EntityAlreadyExists",
            409,
            Fault::Sender,
        ),
        (
            IamErrorCode::EntityTemporarilyUnmodifiable,
            "EntityTemporarilyUnmodifiable",
            409,
            Fault::Sender,
        ),
        (
            IamErrorCode::InvalidAuthenticationCode,
            "InvalidAuthenticationCode",
            403,
            Fault::Sender,
        ),
        (
            IamErrorCode::InvalidInput,
            "InvalidInput",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::LimitExceeded,
            "LimitExceeded",
            409,
            Fault::Sender,
        ),
        (
            IamErrorCode::MalformedPolicyDocument,
            "MalformedPolicyDocument",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::NoSuchEntity,
            "NoSuchEntity",
            404,
            Fault::Sender,
        ),
        (
            IamErrorCode::PolicyEvaluation,
            "PolicyEvaluation",
            500,
            Fault::Receiver,
        ),
        (
            IamErrorCode::PolicyNotAttachable,
            "PolicyNotAttachable",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::ServiceFailure,
            "ServiceFailure",
            500,
            Fault::Receiver,
        ),
        (
            IamErrorCode::UnmodifiableEntity,
            "UnmodifiableEntity",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::ExpiredTokenException,
            "ExpiredTokenException",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::PackedPolicyTooLarge,
            "PackedPolicyTooLarge",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::RegionDisabledException,
            "RegionDisabledException",
            403,
            Fault::Sender,
        ),
        (
            IamErrorCode::AccessDenied,
            "AccessDenied",
            403,
            Fault::Sender,
        ),
        (
            IamErrorCode::ExpiredToken,
            "ExpiredToken",
            403,
            Fault::Sender,
        ),
        (
            IamErrorCode::IncompleteSignature,
            "IncompleteSignature",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::InternalFailure,
            "InternalFailure",
            500,
            Fault::Receiver,
        ),
        (
            IamErrorCode::InvalidAction,
            "InvalidAction",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::InvalidClientTokenId,
            "InvalidClientTokenId",
            403,
            Fault::Sender,
        ),
        (
            IamErrorCode::InvalidParameterCombination,
            "InvalidParameterCombination",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::InvalidParameterValue,
            "InvalidParameterValue",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::InvalidQueryParameter,
            "InvalidQueryParameter",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::MalformedQueryString,
            "MalformedQueryString",
            404,
            Fault::Sender,
        ),
        (
            IamErrorCode::MissingAction,
            "MissingAction",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::MissingAuthenticationToken,
            "MissingAuthenticationToken",
            403,
            Fault::Sender,
        ),
        (
            IamErrorCode::MissingParameter,
            "MissingParameter",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::OptInRequired,
            "OptInRequired",
            403,
            Fault::Sender,
        ),
        (
            IamErrorCode::RequestExpired,
            "RequestExpired",
            400,
            Fault::Sender,
        ),
        (
            IamErrorCode::ServiceUnavailable,
            "ServiceUnavailable",
            503,
            Fault::Receiver,
        ),
        (
            IamErrorCode::SignatureDoesNotMatch,
            "SignatureDoesNotMatch",
            403,
            Fault::Sender,
        ),
        (IamErrorCode::Throttling, "Throttling", 400, Fault::Sender),
        (
            IamErrorCode::ValidationError,
            "ValidationError",
            400,
            Fault::Sender,
        ),
    ];

    #[test]
    fn every_code_has_its_status_and_fault() {
        assert_eq!(TABLE.len(), IamErrorCode::ALL.len(), "table misses a code");
        for &(code, name, status, fault) in TABLE {
            assert_eq!(code.code(), name);
            assert_eq!(code.status(), status, "{name}");
            assert_eq!(code.fault(), fault, "{name}");
        }
        let mut seen = std::collections::HashSet::new();
        for code in IamErrorCode::ALL {
            assert!(seen.insert(code.code()), "{code:?} twice");
        }
    }

    #[test]
    fn error_body_is_iams() {
        let e = IamError::new(
            IamErrorCode::NoSuchEntity,
            "The user with name <x> cannot be found.",
        );
        assert_eq!(
            e.to_xml(Service::Iam, "req-1"),
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>\
             <Type>Sender</Type><Code>NoSuchEntity</Code>\
             <Message>The user with name &lt;x&gt; cannot be found.</Message></Error>\
             <RequestId>req-1</RequestId></ErrorResponse>"
        );
        let sts = IamError::service_failure().to_xml(Service::Sts, "r");
        assert!(
            sts.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">")
        );
        assert!(sts.contains("<Type>Receiver</Type><Code>ServiceFailure</Code>"));
    }

    #[test]
    fn unknown_operation_is_worded_as_aws() {
        let e = IamError::unknown_operation("ListFoo", Some("2010-05-08"));
        assert_eq!(e.code, IamErrorCode::InvalidAction);
        assert_eq!(
            e.message,
            "Could not find operation ListFoo for version 2010-05-08"
        );
        let e = IamError::unknown_operation("ListUsers", None);
        assert_eq!(
            e.message,
            "Could not find operation ListUsers for version NO_VERSION_SPECIFIED"
        );
    }

    #[test]
    fn service_is_chosen_by_version_then_action() {
        let p = |s: &str| crate::parse_form(s.as_bytes()).unwrap();
        assert_eq!(
            Service::of(&p("Action=GetCallerIdentity&Version=2011-06-15")),
            Service::Sts
        );
        assert_eq!(Service::of(&p("Action=GetCallerIdentity")), Service::Sts);
        assert_eq!(
            Service::of(&p("Action=ListUsers&Version=2010-05-08")),
            Service::Iam
        );
        assert_eq!(Service::of(&p("Action=Nope")), Service::Iam);
        assert_eq!(Service::Sts.version(), "2011-06-15");
    }
}
