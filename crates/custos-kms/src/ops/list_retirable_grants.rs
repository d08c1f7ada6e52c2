//! `ListRetirableGrants`: the grants, on any key, that name a retiring
//! principal. Authorized by IAM policy alone, as on AWS.

use custos_store::Engine;
use custos_wire::shapes::{ListGrantsResponse, ListRetirableGrantsRequest};
use custos_wire::validation::Violations;

use crate::authz::{Action, Conditions};
use crate::ops::check_marker;
use crate::ops::list_grants::grants_page;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn list_retirable_grants(
        &self,
        caller: &Caller,
        req: ListRetirableGrantsRequest,
    ) -> Result<ListGrantsResponse, KmsError> {
        let mut v = Violations::new();
        v.required("retiringPrincipal", &req.retiring_principal);
        v.length(
            "retiringPrincipal",
            req.retiring_principal.as_deref(),
            1,
            256,
        );
        v.range("limit", req.limit, 1, 100);
        check_marker(&mut v, &req.marker);
        v.into_result()?;
        let principal = req.retiring_principal.unwrap_or_default();
        crate::ops::list_grants::check_grant_marker(req.marker.as_deref())?;

        self.authorize_account(caller, Action::ListRetirableGrants, &Conditions::default())?;
        // Grants of the caller's region, for a principal of the caller's
        // account: AWS asks for "a principal in your AWS account".
        let own_account = principal.split(':').nth(4) == Some(caller.account().as_str())
            || principal == caller.account().as_str();
        let region_prefix = format!("arn:aws:kms:{}:", caller.region());
        let mut grants: Vec<_> = if own_account {
            self.all_grants()
                .await?
                .into_iter()
                .filter(|g| g.retiring_principal.as_deref() == Some(principal.as_str()))
                .filter(|g| g.key_arn.starts_with(&region_prefix))
                .collect()
        } else {
            Vec::new()
        };
        grants.sort_by(|a, b| a.grant_id.cmp(&b.grant_id));
        Ok(grants_page(grants, req.marker.as_deref(), req.limit))
    }
}
