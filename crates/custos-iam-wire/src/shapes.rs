//! The entities IAM and STS return, named and ordered as the service
//! models name them, and the enumerations requests carry.
//!
//! Which optional members a given response fills is the domain's choice
//! (IAM's `ListRoles` omits a role's tags and last use, `GetRole` includes
//! them); the encoder writes whatever is set and omits what is `None` or
//! an empty tag list.

use custos_crypto::SecretBytes;
use time::OffsetDateTime;

use crate::xml::XmlWriter;

/// A tag, `<member><Key>…</Key><Value>…</Value></member>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// The permissions boundary of a user or role. Its type is always
/// `PermissionsBoundaryPolicy`, the model's only value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPermissionsBoundary {
    pub permissions_boundary_arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub path: String,
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    pub create_date: OffsetDateTime,
    pub password_last_used: Option<OffsetDateTime>,
    pub permissions_boundary: Option<AttachedPermissionsBoundary>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub path: String,
    pub group_name: String,
    pub group_id: String,
    pub arn: String,
    pub create_date: OffsetDateTime,
}

/// When and where a role was last assumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleLastUsed {
    pub last_used_date: Option<OffsetDateTime>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub path: String,
    pub role_name: String,
    pub role_id: String,
    pub arn: String,
    pub create_date: OffsetDateTime,
    /// The trust policy as raw JSON; URL-encoded on output, as IAM does.
    pub assume_role_policy_document: String,
    pub description: Option<String>,
    /// 3600..=43200 seconds; IAM's default is 3600.
    pub max_session_duration: u32,
    pub permissions_boundary: Option<AttachedPermissionsBoundary>,
    pub tags: Vec<Tag>,
    pub role_last_used: Option<RoleLastUsed>,
}

/// A managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub policy_name: String,
    pub policy_id: String,
    pub arn: String,
    pub path: String,
    pub default_version_id: String,
    pub attachment_count: u32,
    pub permissions_boundary_usage_count: u32,
    pub is_attachable: bool,
    pub description: Option<String>,
    pub create_date: OffsetDateTime,
    pub update_date: OffsetDateTime,
    pub tags: Vec<Tag>,
}

/// One version of a managed policy. `document` is raw JSON, URL-encoded on
/// output; IAM leaves it out of `ListPolicyVersions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub document: Option<String>,
    pub version_id: String,
    pub is_default_version: bool,
    pub create_date: OffsetDateTime,
}

/// A managed policy attached to a user, group or role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub policy_name: String,
    pub policy_arn: String,
}

/// An access key's status (`statusType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusType {
    Active,
    Inactive,
    /// In the model; IAM never lets a caller set it.
    Expired,
}

impl StatusType {
    pub(crate) const VALUES: &'static [(&'static str, StatusType)] = &[
        ("Active", StatusType::Active),
        ("Inactive", StatusType::Inactive),
        ("Expired", StatusType::Expired),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusType::Active => "Active",
            StatusType::Inactive => "Inactive",
            StatusType::Expired => "Expired",
        }
    }
}

/// An access key without its secret, as `ListAccessKeys` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyMetadata {
    pub user_name: String,
    pub access_key_id: String,
    pub status: StatusType,
    pub create_date: OffsetDateTime,
}

/// A new access key with its secret, as only `CreateAccessKey` returns it.
/// `Debug` shows the secret's length, never its bytes.
#[derive(Debug)]
pub struct AccessKey {
    pub user_name: String,
    pub access_key_id: String,
    pub status: StatusType,
    pub secret_access_key: SecretBytes,
    pub create_date: OffsetDateTime,
}

/// When, where and with what service an access key was last used. IAM
/// sends `N/A` for the service and region of a key never used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyLastUsed {
    pub last_used_date: Option<OffsetDateTime>,
    pub service_name: String,
    pub region: String,
}

/// A group a managed policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyGroup {
    pub group_name: String,
    pub group_id: String,
}

/// A user a managed policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyUser {
    pub user_name: String,
    pub user_id: String,
}

/// A role a managed policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRole {
    pub role_name: String,
    pub role_id: String,
}

/// `ListPolicies`' `Scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyScope {
    All,
    Aws,
    Local,
}

impl PolicyScope {
    pub(crate) const VALUES: &'static [(&'static str, PolicyScope)] = &[
        ("All", PolicyScope::All),
        ("AWS", PolicyScope::Aws),
        ("Local", PolicyScope::Local),
    ];
}

/// `PolicyUsageFilter`: attached as a permissions policy or as a boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyUsage {
    PermissionsPolicy,
    PermissionsBoundary,
}

impl PolicyUsage {
    pub(crate) const VALUES: &'static [(&'static str, PolicyUsage)] = &[
        ("PermissionsPolicy", PolicyUsage::PermissionsPolicy),
        ("PermissionsBoundary", PolicyUsage::PermissionsBoundary),
    ];
}

/// `ListEntitiesForPolicy`'s `EntityFilter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    User,
    Role,
    Group,
    LocalManagedPolicy,
    AwsManagedPolicy,
}

impl EntityType {
    pub(crate) const VALUES: &'static [(&'static str, EntityType)] = &[
        ("User", EntityType::User),
        ("Role", EntityType::Role),
        ("Group", EntityType::Group),
        ("LocalManagedPolicy", EntityType::LocalManagedPolicy),
        ("AWSManagedPolicy", EntityType::AwsManagedPolicy),
    ];
}

// The encoders. Each writes the shape's members inside an element whose
// name the caller chooses (`User`, `member`, …).

pub(crate) fn write_tags(w: &mut XmlWriter, name: &str, tags: &[Tag]) {
    w.open(name);
    for tag in tags {
        w.open("member");
        w.element("Key", &tag.key);
        w.element("Value", &tag.value);
        w.close("member");
    }
    w.close(name);
}

fn write_optional_tags(w: &mut XmlWriter, tags: &[Tag]) {
    if !tags.is_empty() {
        write_tags(w, "Tags", tags);
    }
}

fn write_boundary(w: &mut XmlWriter, boundary: Option<&AttachedPermissionsBoundary>) {
    if let Some(b) = boundary {
        w.open("PermissionsBoundary");
        w.element("PermissionsBoundaryType", "PermissionsBoundaryPolicy");
        w.element("PermissionsBoundaryArn", &b.permissions_boundary_arn);
        w.close("PermissionsBoundary");
    }
}

pub(crate) fn write_user(w: &mut XmlWriter, name: &str, u: &User) {
    w.open(name);
    w.element("Path", &u.path);
    w.element("UserName", &u.user_name);
    w.element("UserId", &u.user_id);
    w.element("Arn", &u.arn);
    w.date("CreateDate", u.create_date);
    if let Some(d) = u.password_last_used {
        w.date("PasswordLastUsed", d);
    }
    write_boundary(w, u.permissions_boundary.as_ref());
    write_optional_tags(w, &u.tags);
    w.close(name);
}

pub(crate) fn write_group(w: &mut XmlWriter, name: &str, g: &Group) {
    w.open(name);
    w.element("Path", &g.path);
    w.element("GroupName", &g.group_name);
    w.element("GroupId", &g.group_id);
    w.element("Arn", &g.arn);
    w.date("CreateDate", g.create_date);
    w.close(name);
}

pub(crate) fn write_role(w: &mut XmlWriter, name: &str, r: &Role) {
    w.open(name);
    w.element("Path", &r.path);
    w.element("RoleName", &r.role_name);
    w.element("RoleId", &r.role_id);
    w.element("Arn", &r.arn);
    w.date("CreateDate", r.create_date);
    w.policy_document("AssumeRolePolicyDocument", &r.assume_role_policy_document);
    w.optional("Description", r.description.as_deref());
    w.number("MaxSessionDuration", r.max_session_duration.into());
    write_boundary(w, r.permissions_boundary.as_ref());
    write_optional_tags(w, &r.tags);
    if let Some(last) = &r.role_last_used {
        w.open("RoleLastUsed");
        if let Some(d) = last.last_used_date {
            w.date("LastUsedDate", d);
        }
        w.optional("Region", last.region.as_deref());
        w.close("RoleLastUsed");
    }
    w.close(name);
}

pub(crate) fn write_policy(w: &mut XmlWriter, name: &str, p: &Policy) {
    w.open(name);
    w.element("PolicyName", &p.policy_name);
    w.element("PolicyId", &p.policy_id);
    w.element("Arn", &p.arn);
    w.element("Path", &p.path);
    w.element("DefaultVersionId", &p.default_version_id);
    w.number("AttachmentCount", p.attachment_count.into());
    w.number(
        "PermissionsBoundaryUsageCount",
        p.permissions_boundary_usage_count.into(),
    );
    w.boolean("IsAttachable", p.is_attachable);
    w.optional("Description", p.description.as_deref());
    w.date("CreateDate", p.create_date);
    w.date("UpdateDate", p.update_date);
    write_optional_tags(w, &p.tags);
    w.close(name);
}

pub(crate) fn write_policy_version(w: &mut XmlWriter, name: &str, v: &PolicyVersion) {
    w.open(name);
    if let Some(doc) = &v.document {
        w.policy_document("Document", doc);
    }
    w.element("VersionId", &v.version_id);
    w.boolean("IsDefaultVersion", v.is_default_version);
    w.date("CreateDate", v.create_date);
    w.close(name);
}

pub(crate) fn write_attached_policy(w: &mut XmlWriter, name: &str, a: &AttachedPolicy) {
    w.open(name);
    w.element("PolicyName", &a.policy_name);
    w.element("PolicyArn", &a.policy_arn);
    w.close(name);
}

pub(crate) fn write_access_key_metadata(w: &mut XmlWriter, name: &str, k: &AccessKeyMetadata) {
    w.open(name);
    w.element("UserName", &k.user_name);
    w.element("AccessKeyId", &k.access_key_id);
    w.element("Status", k.status.as_str());
    w.date("CreateDate", k.create_date);
    w.close(name);
}

pub(crate) fn write_access_key(w: &mut XmlWriter, name: &str, k: &AccessKey) {
    w.open(name);
    w.element("UserName", &k.user_name);
    w.element("AccessKeyId", &k.access_key_id);
    w.element("Status", k.status.as_str());
    w.secret("SecretAccessKey", k.secret_access_key.expose_secret());
    w.date("CreateDate", k.create_date);
    w.close(name);
}

/// `<Name><member>…</member>…</Name>`, always written, empty or not, so
/// that every SDK sees an empty list rather than a missing one.
pub(crate) fn write_list<T>(
    w: &mut XmlWriter,
    name: &str,
    items: &[T],
    write: fn(&mut XmlWriter, &str, &T),
) {
    w.open(name);
    for item in items {
        write(w, "member", item);
    }
    w.close(name);
}

/// A list of plain strings, `<Name><member>…</member></Name>`.
pub(crate) fn write_string_list(w: &mut XmlWriter, name: &str, items: &[String]) {
    w.open(name);
    for item in items {
        w.element("member", item);
    }
    w.close(name);
}
