//! AWS KMS key ARNs, as the Encryption SDK reads them
//! (`framework/aws-kms/aws-kms-key-arn.md`).

use std::fmt;

/// A valid AWS KMS ARN: `arn:PARTITION:kms:REGION:ACCOUNT:TYPE/ID`, with
/// every part non-empty and `TYPE` either `key` or `alias`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KmsArn {
    pub(crate) partition: String,
    pub(crate) region: String,
    pub(crate) account: String,
    pub(crate) resource_type: ResourceType,
    pub(crate) resource_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceType {
    Key,
    Alias,
}

impl KmsArn {
    /// Parses `s`; `None` unless it is a valid AWS KMS ARN.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let mut parts = s.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("kms"), Some(region), Some(account), Some(res)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let (kind, id) = res.split_once('/')?;
        let resource_type = match kind {
            "key" => ResourceType::Key,
            "alias" => ResourceType::Alias,
            _ => return None,
        };
        if partition.is_empty() || region.is_empty() || account.is_empty() || id.is_empty() {
            return None;
        }
        Some(Self {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            resource_type,
            resource_id: id.to_owned(),
        })
    }
}

impl fmt::Display for KmsArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.resource_type {
            ResourceType::Key => "key",
            ResourceType::Alias => "alias",
        };
        write!(
            f,
            "arn:{}:kms:{}:{}:{kind}/{}",
            self.partition, self.region, self.account, self.resource_id
        )
    }
}

/// The region a KMS key identifier names, if it is an ARN.
pub(crate) fn region_of(key_id: &str) -> Option<String> {
    KmsArn::parse(key_id).map(|a| a.region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_specification_calls_valid() {
        let a = KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/1234-ab").expect("valid");
        assert_eq!(a.partition, "aws");
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.account, "111122223333");
        assert_eq!(a.resource_type, ResourceType::Key);
        assert_eq!(a.resource_id, "1234-ab");
        assert_eq!(
            a.to_string(),
            "arn:aws:kms:us-east-1:111122223333:key/1234-ab"
        );
        // Further slashes belong to the id.
        let a = KmsArn::parse("arn:aws-cn:kms:cn-north-1:1:alias/a/b").expect("valid");
        assert_eq!(a.resource_type, ResourceType::Alias);
        assert_eq!(a.resource_id, "a/b");
        for bad in [
            "",
            "1234-ab",
            "alias/app",
            "arn:aws:s3:us-east-1:1:key/x",
            "arn::kms:us-east-1:1:key/x",
            "arn:aws:kms::1:key/x",
            "arn:aws:kms:us-east-1::key/x",
            "arn:aws:kms:us-east-1:1:key/",
            "arn:aws:kms:us-east-1:1:key",
            "arn:aws:kms:us-east-1:1:grant/x",
            "urn:aws:kms:us-east-1:1:key/x",
        ] {
            assert_eq!(KmsArn::parse(bad), None, "{bad}");
        }
        assert_eq!(
            region_of("arn:aws:kms:eu-west-3:1:key/x").as_deref(),
            Some("eu-west-3")
        );
        assert_eq!(region_of("alias/x"), None);
    }
}
