//! The authorization step.
//!
//! Every operation calls [`crate::Kms::authorize`] once it knows which key
//! the request is about, and before it looks at the key's state, as AWS
//! does. Today the rule is the one this stage of Custos promises: the
//! caller's verified identity must belong to the key's account.
//! Key policies, IAM-style identity policies and grants will be evaluated
//! here, and only here.

use crate::model::KeyRecord;
use crate::{Kms, KmsError};

pub use custos_iam::Caller;

impl<E> Kms<E> {
    /// Decides whether `caller` may perform `action` (`kms:Encrypt`…) on
    /// `key` (or on the account, for actions like `kms:CreateKey`).
    pub(crate) fn authorize(
        &self,
        caller: &Caller,
        action: &'static str,
        key: Option<&KeyRecord>,
    ) -> Result<(), KmsError> {
        let same_account = key.is_none_or(|k| k.account_id == caller.account().as_str());
        if same_account {
            Ok(())
        } else {
            let resource = key.map_or("*".to_owned(), |k| {
                format!("arn:aws:kms:{}:{}:key/{}", k.region, k.account_id, k.key_id)
            });
            Err(KmsError::AccessDenied(format!(
                "User: {} is not authorized to perform: {action} on resource: {resource}",
                caller.principal_arn()
            )))
        }
    }
}
