//! `GetKeyLastUsage`: the domain's half — which key, whether the caller may
//! ask, when it was created. Its last use is in the audit trail, which the
//! server keeps: the server fills in `KeyLastUsage` and when tracking began
//! (see `custos-server`'s dispatch), as the audit stays at the edge.

use custos_store::Engine;
use custos_wire::Timestamp;
use custos_wire::shapes::{GetKeyLastUsageResponse, KeyIdRequest, KeyLastUsageData};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::required_key_id;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn get_key_last_usage(
        &self,
        caller: &Caller,
        req: KeyIdRequest,
    ) -> Result<GetKeyLastUsageResponse, KmsError> {
        let raw = required_key_id(req.key_id)?;
        // Key id or key ARN only; any state (AWS's model lists no state
        // error for it).
        let request = KeyRequest::new(Action::GetKeyLastUsage, KeySource::NamedNotAlias(&raw))
            .need(Need::AnyState);
        let key = self.access(caller, request).await?.into_key();
        let created = Timestamp::from_millis(key.created_ms);
        Ok(GetKeyLastUsageResponse {
            key_id: key.arn(),
            key_last_usage: KeyLastUsageData::default(),
            tracking_start_date: created,
            key_creation_date: created,
        })
    }
}
