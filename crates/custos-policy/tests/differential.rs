//! Differential test: `custos-policy` against `iam-rs`, an independent IAM
//! policy evaluator from crates.io, used here only as an oracle.
//!
//! A seeded generator makes identity policies (no `Principal`) and requests
//! over the part of the policy language both evaluators claim:
//!
//! - `Allow` and `Deny` statements, one to three per policy;
//! - `Action`/`NotAction` with `*` and `?`, in any case;
//! - `Resource`/`NotResource` with `*` and `?` in the ARN segments, and the
//!   policy variables `${aws:username}` and `${aws:PrincipalTag/team}`, with
//!   and without a default;
//! - the String, Numeric, Date, Bool, IP address, ARN and `Null` condition
//!   operators, their `…IfExists` forms, several keys and several values,
//!   condition keys written in another case, operators now and then applied
//!   to a key of another type;
//! - `ForAnyValue:`/`ForAllValues:` on multi-valued keys (strings, ARNs,
//!   booleans), empty lists included;
//! - keys absent from the request.
//!
//! Each policy is evaluated against several requests by both evaluators and
//! the answers (allow, explicit deny, not applicable) must agree. Any
//! disagreement is shrunk to the statement, condition entry and context keys
//! that cause it and printed with both answers, and the test fails.
//!
//! Where the two evaluators differ and AWS's documentation says custos-policy
//! is right (or leaves the case undefined), the generator leaves the case
//! out: see [`Exclusion`], which quotes the IAM User Guide for each. Where
//! custos-policy was wrong, it was fixed, with a table test in the crate.
//!
//! Environment, for longer or targeted runs:
//! - `DIFF_SEED`, `DIFF_POLICIES`: another seed, more policies;
//! - `DIFF_INCLUDE=name,…`: generate an excluded case again (names in
//!   [`Exclusion::ALL`]), to see the disagreement it hides;
//! - `DIFF_PRINTED`: how many distinct disagreements to print.

use std::collections::HashSet;
use std::fmt::Write as _;

use custos_policy::{AwsPrincipal, Context, Effect, Policy, PolicyKind, Principal, Request};
use serde_json::{Map, Value, json};

const DEFAULT_SEED: u64 = 0x5eed_c057_05a1_1ce5;
/// 10 000 policies × 8 requests: 80 000 cases, about three seconds in a
/// debug build.
const DEFAULT_POLICIES: u64 = 10_000;
const REQUESTS_PER_POLICY: usize = 8;
/// Distinct disagreements shrunk and printed (shrinking is slow).
const DEFAULT_PRINTED: u64 = 12;

const ACCOUNT: &str = "111122223333";
const CALLER: &str = "arn:aws:iam::111122223333:user/alice";

// ---------------------------------------------------------------------------
// The run.

#[test]
fn custos_policy_agrees_with_iam_rs() {
    let seed = env_number("DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let policies = env_number("DIFF_POLICIES").unwrap_or(DEFAULT_POLICIES);
    let printed = env_number("DIFF_PRINTED").unwrap_or(DEFAULT_PRINTED) as usize;
    let mut g = Gen::new(seed, Exclusion::included_from_env());
    let mut tally = Tally::default();
    let mut failures = 0usize;
    let mut shown = HashSet::new();
    for _ in 0..policies {
        let policy = gen_policy(&mut g);
        let text = policy.json.to_string();
        let ours = Policy::parse(&text, PolicyKind::Identity)
            .unwrap_or_else(|e| panic!("custos-policy refused a generated policy: {e}\n{text}"));
        let theirs = iam_rs::IAMPolicy::from_json(&text)
            .unwrap_or_else(|e| panic!("iam-rs refused a generated policy: {e}\n{text}"));
        let unconditional = Policy::parse(&without_conditions(&policy.json), PolicyKind::Identity)
            .unwrap_or_else(|e| panic!("{e}: {text} without its conditions"));
        for _ in 0..REQUESTS_PER_POLICY {
            let req = gen_request(&mut g, &policy);
            let a = evaluate_ours(&ours, &req);
            let b = evaluate_iam_rs(&theirs, &req);
            tally.count(a);
            if evaluate_ours(&unconditional, &req) != a {
                tally.by_condition += 1;
            }
            if Some(a) == b {
                continue;
            }
            failures += 1;
            if shown.len() < printed {
                let (small_policy, small_req) = shrink(policy.json.clone(), req);
                if shown.insert(small_policy.to_string()) {
                    eprintln!("{}", report(&small_policy, &small_req));
                }
            }
        }
    }
    let cases = tally.total();
    eprintln!(
        "differential: {cases} cases from {policies} policies (seed {seed:#x}): {} allow, \
         {} deny, {} not applicable, {} decided by a condition; {failures} disagreements",
        tally.allow, tally.deny, tally.not_applicable, tally.by_condition,
    );
    assert_eq!(
        failures, 0,
        "{failures} of {cases} cases disagree; the first distinct ones, shrunk, are printed above"
    );
    // Agreement means little unless every outcome is common.
    assert!(
        [
            tally.allow,
            tally.deny,
            tally.not_applicable,
            tally.by_condition
        ]
        .iter()
        .all(|&n| n > cases / 20),
        "unbalanced outcomes: {tally:?}"
    );
}

/// The policy's text with every `Condition` removed.
fn without_conditions(policy: &Value) -> String {
    let mut p = policy.clone();
    if let Some(Value::Array(statements)) = p.get_mut("Statement") {
        for s in statements {
            if let Value::Object(members) = s {
                members.remove("Condition");
            }
        }
    }
    p.to_string()
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text} is not a number")))
}

/// The answers one policy can give, in both evaluators' terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Allow,
    Deny,
    NotApplicable,
}

#[derive(Debug, Default)]
struct Tally {
    allow: usize,
    deny: usize,
    not_applicable: usize,
    /// Cases whose answer the conditions changed (evaluated again without
    /// any `Condition`, custos-policy answers otherwise).
    by_condition: usize,
}

impl Tally {
    fn count(&mut self, a: Answer) {
        match a {
            Answer::Allow => self.allow += 1,
            Answer::Deny => self.deny += 1,
            Answer::NotApplicable => self.not_applicable += 1,
        }
    }

    fn total(&self) -> usize {
        self.allow + self.deny + self.not_applicable
    }
}

fn evaluate_ours(policy: &Policy, req: &GenRequest) -> Answer {
    let mut ctx = Context::with_capacity(req.context.len());
    for (key, value) in &req.context {
        match value {
            CtxValue::One(v) => ctx.insert(key.as_str(), v.as_str()),
            CtxValue::Many(vs) => ctx.insert_many(key.as_str(), vs.iter().map(String::as_str)),
        };
    }
    let caller = Principal::Aws(AwsPrincipal::new(CALLER, ACCOUNT));
    let request = Request::new(&req.action, &req.resource, caller, &ctx);
    match policy.evaluate(&request) {
        Effect::Allow => Answer::Allow,
        Effect::Deny => Answer::Deny,
        Effect::NotApplicable => Answer::NotApplicable,
        // Only a statement naming an account principal answers this, and an
        // identity policy names no principal.
        Effect::AccountAllow => unreachable!("an identity policy names no principal"),
    }
}

/// `None` when iam-rs returns an error, which counts as a disagreement.
fn evaluate_iam_rs(policy: &iam_rs::IAMPolicy, req: &GenRequest) -> Option<Answer> {
    use iam_rs::ContextValue;
    let mut ctx = iam_rs::Context::new();
    for (key, value) in &req.context {
        let v = match (value, key_kind(key)) {
            // iam-rs' Bool operators read only typed booleans, where
            // custos-policy reads the text "true" or "false".
            (CtxValue::One(v), Kind::Bool) => ContextValue::Boolean(v == "true"),
            (CtxValue::Many(vs), Kind::MultiBool) => {
                ContextValue::BooleanList(vs.iter().map(|v| v == "true").collect())
            }
            // Every other operator of both parses the request's text.
            (CtxValue::One(v), _) => ContextValue::String(v.clone()),
            (CtxValue::Many(vs), _) => ContextValue::StringList(vs.clone()),
        };
        ctx.insert(key.clone(), v);
    }
    let resource = iam_rs::Arn::parse(&req.resource).ok()?;
    let principal = iam_rs::Principal::Aws(iam_rs::PrincipalId::String(CALLER.into()));
    let request = iam_rs::IAMRequest::new_with_context(principal, &req.action, resource, ctx);
    match iam_rs::evaluate_policy(policy, &request).ok()? {
        iam_rs::Decision::Allow => Some(Answer::Allow),
        iam_rs::Decision::Deny => Some(Answer::Deny),
        iam_rs::Decision::NotApplicable => Some(Answer::NotApplicable),
    }
}

// ---------------------------------------------------------------------------
// Reporting a disagreement.

/// Both answers; `None` when either evaluator refuses the policy (a shrink
/// step can make an invalid one).
fn answers(policy: &Value, req: &GenRequest) -> Option<(Answer, Option<Answer>)> {
    let text = policy.to_string();
    let ours = Policy::parse(&text, PolicyKind::Identity).ok()?;
    let theirs = iam_rs::IAMPolicy::from_json(&text).ok()?;
    Some((evaluate_ours(&ours, req), evaluate_iam_rs(&theirs, req)))
}

fn disagree(policy: &Value, req: &GenRequest) -> bool {
    answers(policy, req).is_some_and(|(a, b)| Some(a) != b)
}

/// Removes statements, list items, condition entries and context keys, one
/// at a time, as long as the disagreement remains, so that the report shows
/// only what causes it.
fn shrink(mut policy: Value, mut req: GenRequest) -> (Value, GenRequest) {
    loop {
        if let Some(smaller) = reductions(&policy).into_iter().find(|p| disagree(p, &req)) {
            policy = smaller;
            continue;
        }
        let fewer_keys = (0..req.context.len()).map(|i| {
            let mut r = req.clone();
            r.context.remove(i);
            r
        });
        match fewer_keys.into_iter().find(|r| disagree(&policy, r)) {
            Some(smaller) => req = smaller,
            None => return (policy, req),
        }
    }
}

/// Every copy of `v` with one array element or one object member removed,
/// at any depth, keeping the members a statement needs.
fn reductions(v: &Value) -> Vec<Value> {
    const REQUIRED: [&str; 7] = [
        "Version",
        "Statement",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
    ];
    let mut out = Vec::new();
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if items.len() > 1 {
                    let mut c = items.clone();
                    c.remove(i);
                    out.push(Value::Array(c));
                }
                for sub in reductions(item) {
                    let mut c = items.clone();
                    c[i] = sub;
                    out.push(Value::Array(c));
                }
            }
        }
        Value::Object(members) => {
            for (k, item) in members {
                if !REQUIRED.contains(&k.as_str()) && members.len() > 1 {
                    let mut c = members.clone();
                    c.remove(k);
                    out.push(Value::Object(c));
                }
                for sub in reductions(item) {
                    let mut c = members.clone();
                    c.insert(k.clone(), sub);
                    out.push(Value::Object(c));
                }
            }
        }
        _ => {}
    }
    out
}

fn report(policy: &Value, req: &GenRequest) -> String {
    let mut out = String::new();
    let (ours, theirs) = answers(policy, req).unwrap_or((Answer::NotApplicable, None));
    let theirs = theirs.map_or_else(|| "error".to_owned(), |a| format!("{a:?}"));
    let _ = writeln!(out, "---- disagreement");
    let _ = writeln!(out, "policy:        {policy}");
    let _ = writeln!(out, "action:        {}", req.action);
    let _ = writeln!(out, "resource:      {}", req.resource);
    let _ = writeln!(out, "context:       {:?}", req.context);
    let _ = writeln!(out, "custos-policy: {ours:?}");
    let _ = writeln!(out, "iam-rs:        {theirs}");
    out
}

// ---------------------------------------------------------------------------
// What is left out, and why.

/// A case where the evaluators differ and custos-policy is the one that
/// follows AWS's documentation (or AWS does not say), so that the generator
/// does not produce it. Each variant quotes the IAM User Guide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exclusion {
    /// Wildcards in `ArnEquals`/`ArnNotEquals` values. iam-rs compares them
    /// as plain strings. "Condition operators", ARN table: "The `ArnEquals`
    /// and `ArnLike` condition operators behave identically."
    ArnEqualsWildcards,
    /// An operator without `ForAnyValue:`/`ForAllValues:` on a multi-valued
    /// key. AWS leaves it undefined ("Single-valued vs. multivalued context
    /// keys": "Multivalued context keys require a condition set
    /// operator."), and for negated operators the two guess differently:
    /// iam-rs holds `StringNotEquals` when *some* request value differs,
    /// custos-policy when *none* matches.
    PlainOperatorOnMultiValuedKey,
    /// `Null` on a multi-valued key sent as an empty list. iam-rs calls the
    /// key present; custos-policy calls it null, as "Multivalued context key
    /// examples" implies: "You can prevent missing context keys or context
    /// keys with empty values from evaluating to true by including a Null
    /// condition operator in your policy with a false value to check if the
    /// context key in the request exists and its value is not null."
    NullOnEmptyList,
    /// A resource variable with no value in the request. iam-rs substitutes
    /// an empty string, so that a `NotResource` holding `${aws:username}`
    /// matches every request without a user name. "Variables and tags": a
    /// key that is not present means "any attempt to match it fails and
    /// causes the statement to be invalid", which custos-policy does (see its
    /// test `unresolvable_resource_variable_voids_the_statement_in_any_order`).
    UnresolvedResourceVariable,
    /// A `*` in an ARN segment before the resource matching across colons,
    /// against a request ARN whose resource part has colons
    /// (`log-group:app:log-stream:s1`). iam-rs never lets a `*` leave its
    /// segment, in `Resource` or in `ArnLike`. "Resource": "If the `*`
    /// wildcard is the last character of a resource ARN segment, it can
    /// expand to match beyond the colon boundaries." For `ArnLike` the two
    /// are reversed ("Each of the six colon-delimited components of the ARN
    /// is checked separately", which custos-policy does and iam-rs, matching
    /// the whole string, does not), so such values are left out there too.
    StarAcrossColons,
    /// A resource variable with a default, whose key is sent with an empty
    /// value. iam-rs substitutes the empty string; custos-policy takes the
    /// default, reading an empty value as no value (`variables::lookup`).
    /// What AWS does is not said in what could be checked here: "Variables
    /// and tags" gives a default for keys a request does "not populate", and
    /// has a section on "Policy variables with no value" whose text was not
    /// available; so the case is left out rather than decided.
    EmptyVariableValue,
    /// Policy variables in condition values. iam-rs does not substitute
    /// them. "Variables and tags": "You can use a policy variable for
    /// `Condition` values in any condition that involves the string
    /// operators or the ARN operators."
    ConditionVariables,
    /// The escapes `${*}`, `${?}`, `${$}`. iam-rs reads them as keys named
    /// `*`, `?`, `$` and substitutes nothing. "Variables and tags": "`${*}` -
    /// use where you need an * (asterisk) character."
    VariableEscapes,
    /// A literal `*` in a request value. iam-rs' matcher takes a policy `*`
    /// that meets a request `*` for a literal match and never backtracks
    /// to it: `StringLike "bl*"` does not match `bl*e`. "Condition
    /// operators", `StringLike`: "The values can include multi-character
    /// match wildcards (*) and single-character match wildcards (?)
    /// anywhere in the string."
    StarInRequestValues,
    /// Non-ASCII text under `StringEqualsIgnoreCase`: iam-rs folds ASCII
    /// only, custos-policy all of Unicode (`ÉTÉ` equals `été`). AWS says only
    /// "Exact matching, ignoring case".
    NonAsciiIgnoreCase,
    /// Dates as a month (`2024-06`), a day (`2024-06-01`) or without seconds
    /// (`2024-06-01T14:00+02:00`). iam-rs reads only full RFC 3339
    /// timestamps (and refuses to evaluate such a policy value).
    /// "Condition operators", Date: "You must specify date/time values with
    /// one of the W3C implementations of the ISO 8601 date formats or in
    /// epoch (UNIX) time", and all three are W3C ISO 8601 formats (the
    /// third one custos-policy refused until this test found it).
    W3cDateForms,
    /// A number other than plain digits (`10.5`, `-5`, `10.0`, `1e1`) read
    /// as an epoch time by a Date operator: iam-rs reads it, custos-policy
    /// does not. AWS writes epoch time as whole seconds ("Date condition
    /// operators": "… or in epoch (UNIX) time"; `aws:EpochTime` is an
    /// integer) and says no more. Only reached when a Date operator tests a
    /// numeric key.
    FractionalEpoch,
}

impl Exclusion {
    const ALL: [(Self, &'static str); 12] = [
        (Self::ArnEqualsWildcards, "arn-equals-wildcards"),
        (
            Self::PlainOperatorOnMultiValuedKey,
            "plain-operator-on-multi-valued-key",
        ),
        (Self::NullOnEmptyList, "null-on-empty-list"),
        (
            Self::UnresolvedResourceVariable,
            "unresolved-resource-variable",
        ),
        (Self::StarAcrossColons, "star-across-colons"),
        (Self::EmptyVariableValue, "empty-variable-value"),
        (Self::ConditionVariables, "condition-variables"),
        (Self::VariableEscapes, "variable-escapes"),
        (Self::StarInRequestValues, "star-in-request-values"),
        (Self::NonAsciiIgnoreCase, "non-ascii-ignore-case"),
        (Self::W3cDateForms, "w3c-date-forms"),
        (Self::FractionalEpoch, "fractional-epoch"),
    ];

    fn included_from_env() -> Vec<Self> {
        let Ok(list) = std::env::var("DIFF_INCLUDE") else {
            return Vec::new();
        };
        list.split(',')
            .filter(|s| !s.is_empty())
            .map(|name| {
                Self::ALL
                    .iter()
                    .find(|(_, n)| *n == name)
                    .map(|&(e, _)| e)
                    .unwrap_or_else(|| panic!("DIFF_INCLUDE: no exclusion named {name}"))
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// The vocabulary: actions, resources, condition keys and their values.

const ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncryptFrom",
    "kms:GenerateDataKey",
    "kms:ListKeys",
    "s3:GetObject",
    "s3:PutObject",
    "iam:CreateAccessKey",
    "iam:GetUser",
    "logs:PutLogEvents",
];

/// Request resources: ARNs only (iam-rs takes nothing else), valid by its
/// rules (a 12-digit or empty account).
const RESOURCES: &[&str] = &[
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd",
    "arn:aws:kms:eu-west-1:444455556666:key/5678efab",
    "arn:aws:kms:us-east-1:111122223333:alias/app",
    "arn:aws:s3:::bucket/home/alice/file.txt",
    "arn:aws:s3:::bucket/home/bob/file.txt",
    "arn:aws:s3:::bucket/home/blue/file.txt",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:user/bob",
    "arn:aws-cn:iam::111122223333:role/path/Admin",
    // Colons inside the resource part.
    COLON_RESOURCE,
];
const COLON_RESOURCE: &str = "arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:s1";
/// Request resources only `Exclusion::VariableEscapes` and
/// `Exclusion::StarInRequestValues` let in.
const ESCAPE_RESOURCE: &str = "arn:aws:s3:::bucket/cost$/file.txt";
const STAR_RESOURCE: &str = "arn:aws:s3:::bucket/a*b/file.txt";

/// Resource patterns holding policy variables.
const VARIABLE_RESOURCES: &[&str] = &[
    "arn:aws:iam::111122223333:user/${aws:username}",
    "arn:aws:s3:::bucket/home/${aws:username}/*",
    "arn:aws:s3:::bucket/home/${aws:username}/file.txt",
    "arn:aws:s3:::bucket/home/${aws:PrincipalTag/team}/*",
    "arn:aws:s3:::bucket/home/${aws:PrincipalTag/team, 'blue'}/*",
    "arn:aws:iam::111122223333:user/${aws:username, 'bob'}",
];
/// Keys that `VARIABLE_RESOURCES` names.
const VARIABLE_KEYS: &[&str] = &["aws:username", "aws:PrincipalTag/team"];
/// Values a key named by a variable takes when the request must resolve it:
/// not empty, and no wildcard (iam-rs would read a substituted `*` as one).
const VARIABLE_VALUES: &[&str] = &["alice", "bob", "blue"];
/// Patterns whose `*` ends a segment before the resource part and can
/// reach across `COLON_RESOURCE`'s colons (`Exclusion::StarAcrossColons`).
const CROSSING_PATTERNS: &[&str] = &[
    "arn:aws:logs:us-east-1:*:log-stream:s1",
    "arn:aws:logs:*:log-group:app:log-stream:s1",
    "arn:aws:logs:us-*:app:log-stream:s1",
];
const ESCAPE_PATTERNS: &[&str] = &[
    "arn:aws:s3:::bucket/cost${$}/*",
    "arn:aws:s3:::bucket/a${*}b/*",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Str,
    MultiStr,
    Num,
    Date,
    Bool,
    MultiBool,
    Ip,
    Arn,
    MultiArn,
}

impl Kind {
    fn is_multi(self) -> bool {
        matches!(self, Kind::MultiStr | Kind::MultiBool | Kind::MultiArn)
    }
}

const KEYS: &[(&str, Kind)] = &[
    ("aws:username", Kind::Str),
    ("aws:PrincipalTag/team", Kind::Str),
    ("kms:EncryptionContext:tenant", Kind::Str),
    ("aws:TagKeys", Kind::MultiStr),
    ("kms:EncryptionContextKeys", Kind::MultiStr),
    ("kms:RotationPeriodInDays", Kind::Num),
    ("s3:max-keys", Kind::Num),
    ("aws:CurrentTime", Kind::Date),
    ("aws:EpochTime", Kind::Date),
    ("aws:TokenIssueTime", Kind::Date),
    ("aws:SecureTransport", Kind::Bool),
    ("aws:MultiFactorAuthPresent", Kind::Bool),
    ("custos:Flags", Kind::MultiBool),
    ("aws:SourceIp", Kind::Ip),
    ("aws:SourceArn", Kind::Arn),
    ("aws:PrincipalArn", Kind::Arn),
    ("custos:SourceArns", Kind::MultiArn),
];

fn key_kind(key: &str) -> Kind {
    KEYS.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|&(_, kind)| kind)
        .unwrap_or_else(|| panic!("{key} is not a generated key"))
}

const STR_VALUES: &[&str] = &[
    "alice",
    "bob",
    "blue",
    "Blue",
    "BLUE",
    "red",
    "home/alice/docs",
    "acme",
    "",
];
/// Request values only `Exclusion::StarInRequestValues` and
/// `Exclusion::NonAsciiIgnoreCase` let in.
const STAR_VALUE: &str = "bl*e";
const NON_ASCII_VALUES: &[&str] = &["Été", "ÉTÉ", "été"];
const STR_PATTERNS: &[&str] = &[
    "bl*", "*e", "?lue", "B*", "*", "home/*", "a*e", "*o*", "r?d", "", "?", "al*ce",
];
const VARIABLE_CONDITION_VALUES: &[&str] = &["${aws:username}", "home/${aws:username}/*"];
const MULTI_VALUES: &[&str] = &["key1:legal", "key1:hr", "key2:audit", "Name", "team"];
const MULTI_PATTERNS: &[&str] = &["key1*", "key2:*", "*", "Name", "*:*", "t?am", "key1:hr"];
const NUM_REQUEST: &[&str] = &[
    "-5", "0", "1", "7", "10", "10.0", "10.5", "1e1", "90", "365", "ten",
];
/// The request's numbers when a Date operator may read them.
const WHOLE_NUMBERS: &[&str] = &["0", "1", "7", "10", "90", "365", "1717243200", "ten"];
const NUM_POLICY: &[&str] = &["-5", "0", "1", "7", "10", "10.5", "30", "90", "365"];
const DATES: &[&str] = &[
    "2024-01-01T00:00:00Z",
    "2024-06-01T12:00:00Z",
    "2024-06-01T14:00:00+02:00",
    "2024-06-01T11:59:59Z",
    "2024-06-01T12:00:00.5Z",
    "2025-01-01T00:00:00Z",
    "1717243200",
    "1704067200",
];
const W3C_DATES: &[&str] = &[
    "2024-06",
    "2024-06-01",
    "2024-06-01T12:00Z",
    "2024-06-01T14:00+02:00",
];
const IPS: &[&str] = &[
    "203.0.113.7",
    "203.0.113.200",
    "10.1.2.3",
    "198.51.100.1",
    "2001:db8::1",
    "2001:db8:1::5",
];
const CIDRS: &[&str] = &[
    "203.0.113.0/24",
    "203.0.113.7",
    "203.0.113.7/32",
    "203.0.113.7/24",
    "203.0.113.128/25",
    "10.0.0.0/8",
    "0.0.0.0/0",
    "2001:db8::/32",
    "2001:db8::1",
    "::/0",
];
const ARNS: &[&str] = &[
    "arn:aws:sns:us-east-1:111122223333:topic-a",
    "arn:aws:sns:eu-west-1:444455556666:topic-b",
    "arn:aws:iam::111122223333:role/path/Admin",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:s3:::bucket/home/alice",
    COLON_RESOURCE,
];

// ---------------------------------------------------------------------------
// Policies.

/// A generated policy and what the request generator must know about it.
struct GenPolicy {
    json: Value,
    /// The actions and resources its patterns were made from, so that
    /// requests match often enough for conditions to matter.
    actions: Vec<&'static str>,
    resources: Vec<&'static str>,
    /// Multi-valued keys that must not be sent as an empty list
    /// (`Exclusion::NullOnEmptyList`).
    no_empty_list: Vec<&'static str>,
    /// Keys a resource variable names without a default: the request
    /// resolves them (`Exclusion::UnresolvedResourceVariable`).
    variables: Vec<&'static str>,
    /// Keys a resource variable names with a default: the request sends
    /// them with a value or not at all (`Exclusion::EmptyVariableValue`).
    defaulted_variables: Vec<&'static str>,
    /// A `*` in an ARN segment before the resource part, in `Resource`
    /// (or `NotResource`) and in ARN condition values: the request then
    /// holds no ARN with colons in its resource part
    /// (`Exclusion::StarAcrossColons`).
    star_in_resource_segment: bool,
    star_in_arn_segment: bool,
    /// A Date operator tests a numeric key: the request's numbers are then
    /// whole (`Exclusion::FractionalEpoch`).
    date_on_number: bool,
}

fn gen_policy(g: &mut Gen) -> GenPolicy {
    let mut p = GenPolicy {
        json: Value::Null,
        actions: Vec::new(),
        resources: Vec::new(),
        no_empty_list: Vec::new(),
        variables: Vec::new(),
        defaulted_variables: Vec::new(),
        star_in_resource_segment: false,
        star_in_arn_segment: false,
        date_on_number: false,
    };
    let statements: Vec<Value> = (0..g.range(1, 3))
        .map(|_| gen_statement(g, &mut p))
        .collect();
    p.json = json!({"Version": "2012-10-17", "Statement": statements});
    p
}

fn gen_statement(g: &mut Gen, p: &mut GenPolicy) -> Value {
    let mut s = Map::new();
    let effect = if g.chance(0.35) { "Deny" } else { "Allow" };
    s.insert("Effect".into(), json!(effect));
    let actions: Vec<String> = (0..g.range(1, 3))
        .map(|_| gen_action_pattern(g, p))
        .collect();
    let member = if g.chance(0.2) { "NotAction" } else { "Action" };
    s.insert(member.into(), g.one_or_many(actions));
    let resources: Vec<String> = (0..g.range(1, 3))
        .map(|_| gen_resource_pattern(g, p))
        .collect();
    let member = if g.chance(0.2) {
        "NotResource"
    } else {
        "Resource"
    };
    s.insert(member.into(), g.one_or_many(resources));
    if g.chance(0.75) {
        s.insert("Condition".into(), gen_condition(g, p));
    }
    Value::Object(s)
}

fn gen_action_pattern(g: &mut Gen, p: &mut GenPolicy) -> String {
    let action = *g.pick(ACTIONS);
    p.actions.push(action);
    let (service, name) = action
        .split_once(':')
        .expect("every action is service:Name");
    match g.below(9) {
        0 => "*".into(),
        1 => format!("{service}:*"),
        2 => format!("{service}:{}*", &name[..g.range(0, name.len())]),
        3 => format!("{service}:*{}", &name[g.range(0, name.len())..]),
        4 => format!("{service}:{}", g.question_mark(name)),
        5 => format!("*:{name}"),
        6 => action.to_ascii_lowercase(),
        7 => action.to_ascii_uppercase(),
        _ => action.into(),
    }
}

/// A `Resource` pattern: `*`, a pattern with a variable, or a request ARN
/// with some segments made wildcards.
fn gen_resource_pattern(g: &mut Gen, p: &mut GenPolicy) -> String {
    if g.chance(0.06) {
        return "*".into();
    }
    if !g.excluded(Exclusion::VariableEscapes) && g.chance(0.1) {
        return (*g.pick(ESCAPE_PATTERNS)).into();
    }
    if g.chance(0.12) {
        let pattern = *g.pick(VARIABLE_RESOURCES);
        for key in VARIABLE_KEYS {
            if pattern.contains(&format!("${{{key}}}")) {
                p.variables.push(key);
            } else if pattern.contains(&format!("${{{key},")) {
                p.defaulted_variables.push(key);
            }
        }
        return pattern.into();
    }
    if g.chance(0.03) {
        p.resources.push(COLON_RESOURCE);
        p.star_in_resource_segment = true;
        return (*g.pick(CROSSING_PATTERNS)).into();
    }
    let arn = *g.pick(RESOURCES);
    p.resources.push(arn);
    let (pattern, star_before_resource) = mutate_arn(g, arn, 0.25, false);
    p.star_in_resource_segment |= star_before_resource;
    pattern
}

/// `arn` with some segments replaced by a wildcard form of themselves or by
/// another ARN's segment; segment 0 (`arn`) is kept, and the service too
/// unless `service` (iam-rs refuses a wildcard service in `Resource`, as AWS
/// does: "You can't use a wildcard in the service segment"). Also says
/// whether a segment before the resource part now holds a `*`.
fn mutate_arn(g: &mut Gen, arn: &str, p: f64, service: bool) -> (String, bool) {
    let mut parts: Vec<String> = arn.splitn(6, ':').map(str::to_owned).collect();
    for (i, segment) in parts.iter_mut().enumerate().skip(1) {
        if (i == 2 && !service) || !g.chance(p) {
            continue;
        }
        *segment = match g.below(6) {
            0 => "*".into(),
            1 => format!("{}*", &segment[..g.range(0, segment.len())]),
            2 => format!("*{}", &segment[g.range(0, segment.len())..]),
            3 => g.question_mark(segment),
            4 => {
                let other = *g.pick(RESOURCES);
                other.split(':').nth(i).unwrap_or_default().into()
            }
            _ => String::new(),
        };
    }
    let star_before_resource = parts[..5].iter().any(|s| s.contains('*'));
    (parts.join(":"), star_before_resource)
}

const STRING_OPS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
];
const NUMERIC_OPS: &[&str] = &[
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
];
const DATE_OPS: &[&str] = &[
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
];
const IP_OPS: &[&str] = &["IpAddress", "NotIpAddress"];
const ARN_OPS: &[&str] = &["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"];

fn gen_condition(g: &mut Gen, p: &mut GenPolicy) -> Value {
    let mut operators = Map::new();
    for _ in 0..g.range(1, 3) {
        let (key, kind) = *g.pick(KEYS);
        // Now and then, an operator for another type of value: both
        // evaluators then read the request's text as that type.
        let family = if !kind.is_multi() && kind != Kind::Bool && g.chance(0.1) {
            *g.pick(&[Kind::Str, Kind::Num, Kind::Date, Kind::Ip, Kind::Arn])
        } else {
            kind
        };
        p.date_on_number |= kind == Kind::Num && family == Kind::Date;
        let (operator, values) = gen_operator_and_values(g, p, family);
        if operator == "Null" && kind.is_multi() && g.excluded(Exclusion::NullOnEmptyList) {
            p.no_empty_list.push(key);
        }
        let written = match g.below(6) {
            0 => key.to_ascii_lowercase(),
            1 => key.to_ascii_uppercase(),
            _ => key.to_owned(),
        };
        // A second draw of an operator adds a key to it (keys under one
        // operator are AND'ed, like operators).
        if let Value::Object(keys) = operators
            .entry(operator)
            .or_insert_with(|| Value::Object(Map::new()))
            && !keys.keys().any(|k| k.eq_ignore_ascii_case(key))
        {
            keys.insert(written, values);
        }
    }
    Value::Object(operators)
}

fn gen_operator_and_values(g: &mut Gen, p: &mut GenPolicy, kind: Kind) -> (String, Value) {
    if g.chance(0.08) {
        // One value only: iam-rs reads only the first of several.
        return ("Null".into(), g.bool_value(true));
    }
    match kind {
        Kind::Str | Kind::MultiStr => {
            let op = *g.pick(STRING_OPS);
            let (values, patterns) = if kind == Kind::Str {
                (STR_VALUES, STR_PATTERNS)
            } else {
                (MULTI_VALUES, MULTI_PATTERNS)
            };
            let like = op.contains("Like");
            let ignore_case = op.contains("IgnoreCase");
            let list = g.list_of(1, 3, |g| {
                if !g.excluded(Exclusion::ConditionVariables) && g.chance(0.2) {
                    return json!(*g.pick(VARIABLE_CONDITION_VALUES));
                }
                if ignore_case && !g.excluded(Exclusion::NonAsciiIgnoreCase) && g.chance(0.3) {
                    return json!(*g.pick(NON_ASCII_VALUES));
                }
                if like && g.chance(0.7) {
                    json!(*g.pick(patterns))
                } else {
                    json!(*g.pick(values))
                }
            });
            (qualified(g, kind, op), list)
        }
        Kind::Num => {
            let op = *g.pick(NUMERIC_OPS);
            let list = g.list_of(1, 3, |g| {
                let n = *g.pick(NUM_POLICY);
                if g.chance(0.5) {
                    json!(n)
                } else {
                    serde_json::from_str(n).unwrap_or_else(|_| json!(n))
                }
            });
            (qualified(g, kind, op), list)
        }
        Kind::Date => {
            let op = *g.pick(DATE_OPS);
            let list = g.list_of(1, 2, |g| {
                let d = if !g.excluded(Exclusion::W3cDateForms) && g.chance(0.3) {
                    *g.pick(W3C_DATES)
                } else {
                    *g.pick(DATES)
                };
                match d.parse::<u64>() {
                    Ok(epoch) if g.chance(0.5) => json!(epoch),
                    _ => json!(d),
                }
            });
            (qualified(g, kind, op), list)
        }
        Kind::Bool | Kind::MultiBool => {
            // A set-qualified Bool takes a JSON boolean only, in iam-rs.
            let value = g.bool_value(kind == Kind::Bool);
            (qualified(g, kind, "Bool"), value)
        }
        Kind::Ip => {
            let op = *g.pick(IP_OPS);
            let list = g.list_of(1, 3, |g| json!(*g.pick(CIDRS)));
            (qualified(g, kind, op), list)
        }
        Kind::Arn | Kind::MultiArn => {
            let op = *g.pick(ARN_OPS);
            let list = g.list_of(1, 2, |g| json!(gen_arn_pattern(g, p, op)));
            (qualified(g, kind, op), list)
        }
    }
}

/// `op` as it applies to a key of `kind`: `…IfExists` now and then on a
/// single-valued key; a set qualifier on a multi-valued one (iam-rs has no
/// `ForAnyValue:…IfExists`).
fn qualified(g: &mut Gen, kind: Kind, op: &str) -> String {
    if kind.is_multi() {
        if !g.excluded(Exclusion::PlainOperatorOnMultiValuedKey) && g.chance(0.2) {
            return op.into();
        }
        let set = if g.chance(0.5) {
            "ForAnyValue"
        } else {
            "ForAllValues"
        };
        format!("{set}:{op}")
    } else if g.chance(0.25) {
        format!("{op}IfExists")
    } else {
        op.into()
    }
}

fn gen_arn_pattern(g: &mut Gen, p: &mut GenPolicy, op: &str) -> String {
    let arn = *g.pick(ARNS);
    if op.contains("Equals") && g.excluded(Exclusion::ArnEqualsWildcards) {
        return arn.into();
    }
    if !g.excluded(Exclusion::ConditionVariables) && g.chance(0.1) {
        return "arn:aws:iam::111122223333:user/${aws:username}".into();
    }
    if g.chance(0.08) {
        return "*".into();
    }
    if g.chance(0.05) {
        p.star_in_arn_segment = true;
        return (*g.pick(CROSSING_PATTERNS)).into();
    }
    let (pattern, star_before_resource) = mutate_arn(g, arn, 0.2, true);
    p.star_in_arn_segment |= star_before_resource;
    pattern
}

// ---------------------------------------------------------------------------
// Requests.

#[derive(Clone, Debug)]
enum CtxValue {
    One(String),
    Many(Vec<String>),
}

#[derive(Clone)]
struct GenRequest {
    action: String,
    resource: String,
    context: Vec<(String, CtxValue)>,
}

fn gen_request(g: &mut Gen, p: &GenPolicy) -> GenRequest {
    let action = if !p.actions.is_empty() && g.chance(0.6) {
        *g.pick(&p.actions)
    } else {
        *g.pick(ACTIONS)
    };
    let across_colons = g.excluded(Exclusion::StarAcrossColons);
    let resource = loop {
        let r = if !p.resources.is_empty() && g.chance(0.6) {
            *g.pick(&p.resources)
        } else if !g.excluded(Exclusion::VariableEscapes) && g.chance(0.05) {
            ESCAPE_RESOURCE
        } else if !g.excluded(Exclusion::StarInRequestValues) && g.chance(0.05) {
            STAR_RESOURCE
        } else {
            *g.pick(RESOURCES)
        };
        if !(r == COLON_RESOURCE && across_colons && p.star_in_resource_segment) {
            break r;
        }
    };
    let mut context = Vec::new();
    for &(key, kind) in KEYS {
        let must_resolve =
            p.variables.contains(&key) && g.excluded(Exclusion::UnresolvedResourceVariable);
        let no_empty =
            p.defaulted_variables.contains(&key) && g.excluded(Exclusion::EmptyVariableValue);
        if must_resolve || (no_empty && g.chance(0.65)) {
            context.push((key.into(), CtxValue::One((*g.pick(VARIABLE_VALUES)).into())));
            continue;
        }
        if no_empty {
            continue;
        }
        if !g.chance(0.65) {
            continue;
        }
        let value = match kind {
            Kind::Str => {
                let v = if !g.excluded(Exclusion::StarInRequestValues) && g.chance(0.1) {
                    STAR_VALUE
                } else if !g.excluded(Exclusion::NonAsciiIgnoreCase) && g.chance(0.1) {
                    *g.pick(NON_ASCII_VALUES)
                } else {
                    *g.pick(STR_VALUES)
                };
                CtxValue::One(v.into())
            }
            Kind::Num => {
                let whole = p.date_on_number && g.excluded(Exclusion::FractionalEpoch);
                let v = if whole {
                    *g.pick(WHOLE_NUMBERS)
                } else {
                    *g.pick(NUM_REQUEST)
                };
                CtxValue::One(v.into())
            }
            Kind::Date => {
                let v = if !g.excluded(Exclusion::W3cDateForms) && g.chance(0.2) {
                    *g.pick(W3C_DATES)
                } else {
                    *g.pick(DATES)
                };
                CtxValue::One(v.into())
            }
            Kind::Bool => CtxValue::One(g.bool_text()),
            Kind::Ip => CtxValue::One((*g.pick(IPS)).into()),
            Kind::Arn => CtxValue::One(gen_arn_value(g, p)),
            Kind::MultiStr | Kind::MultiBool | Kind::MultiArn => {
                let min = usize::from(p.no_empty_list.contains(&key));
                let values = (0..g.range(min, 3))
                    .map(|_| match kind {
                        Kind::MultiStr => (*g.pick(MULTI_VALUES)).into(),
                        Kind::MultiBool => g.bool_text(),
                        _ => gen_arn_value(g, p),
                    })
                    .collect();
                CtxValue::Many(values)
            }
        };
        context.push((key.into(), value));
    }
    GenRequest {
        action: action.into(),
        resource: resource.into(),
        context,
    }
}

fn gen_arn_value(g: &mut Gen, p: &GenPolicy) -> String {
    loop {
        let arn = *g.pick(ARNS);
        let excluded = g.excluded(Exclusion::StarAcrossColons);
        if !(arn == COLON_RESOURCE && excluded && p.star_in_arn_segment) {
            return arn.into();
        }
    }
}

// ---------------------------------------------------------------------------
// The generator's state: a small PRNG (SplitMix64), so that a failure
// reproduces from the seed alone without a dependency, and the exclusions
// put back by `DIFF_INCLUDE`.

struct Gen {
    state: u64,
    included: Vec<Exclusion>,
}

impl Gen {
    fn new(seed: u64, included: Vec<Exclusion>) -> Self {
        Self {
            state: seed,
            included,
        }
    }

    fn excluded(&self, e: Exclusion) -> bool {
        !self.included.contains(&e)
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`); the modulo bias does not matter here.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64) < p * (1u64 << 53) as f64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bool_text(&mut self) -> String {
        if self.chance(0.5) { "true" } else { "false" }.into()
    }

    /// `true` or `false`, as JSON booleans or (if `text`) strings too.
    fn bool_value(&mut self, text: bool) -> Value {
        let b = self.chance(0.5);
        if text && self.chance(0.5) {
            json!(b.to_string())
        } else {
            json!(b)
        }
    }

    /// `text` with one character replaced by `?` (ASCII text only).
    fn question_mark(&mut self, text: &str) -> String {
        if text.is_empty() {
            return "?".into();
        }
        let at = self.below(text.len());
        let mut out = text.to_owned();
        out.replace_range(at..=at, "?");
        out
    }

    fn one_or_many(&mut self, items: Vec<String>) -> Value {
        if items.len() == 1 && self.chance(0.5) {
            json!(items[0])
        } else {
            json!(items)
        }
    }

    /// One value or a list of `min..=max`. Inside a list a number or a
    /// boolean is written as a string: iam-rs reads a list of condition
    /// values only as strings (its parser's limit; both read `10` and `"10"`
    /// alike).
    fn list_of(&mut self, min: usize, max: usize, mut f: impl FnMut(&mut Self) -> Value) -> Value {
        let n = self.range(min, max);
        if n == 1 && self.chance(0.5) {
            return f(self);
        }
        let items = (0..n)
            .map(|_| match f(self) {
                Value::String(s) => Value::String(s),
                other => Value::String(other.to_string()),
            })
            .collect();
        Value::Array(items)
    }
}
