//! The audit step.
//!
//! Every request that reaches dispatch produces one [`AuditEvent`], written
//! to the [`AuditSink`] *before* the response is sent; if the sink fails,
//! the client gets an internal error instead of its result (fail closed).
//! The event carries no secret: no plaintext, no data key, no signature, no
//! secret access key — only who asked for what, on which key, and how it
//! ended.
//!
//! This stage of Custos ships one sink, [`LogSink`], which writes the
//! event to the log. The tamper-evident CloudTrail-format log plugs in
//! here.

use std::fmt;

/// One audited request.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub request_id: &'a str,
    pub operation: &'a str,
    pub region: &'a str,
    pub access_key_id: &'a str,
    pub principal_arn: &'a str,
    pub source_ip: std::net::IpAddr,
    /// `__type` of the error, or `None` on success.
    pub error_code: Option<&'a str>,
}

/// Where audit events go.
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Records `event` durably, or fails.
    fn record(
        &self,
        event: &AuditEvent<'_>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// Writes each event to the `custos::audit` log target.
#[derive(Debug, Default)]
pub struct LogSink;

impl AuditSink for LogSink {
    fn record(&self, e: &AuditEvent<'_>) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        tracing::info!(
            target: "custos::audit",
            request_id = e.request_id,
            operation = e.operation,
            region = e.region,
            access_key_id = e.access_key_id,
            principal = e.principal_arn,
            source_ip = %e.source_ip,
            error = e.error_code.unwrap_or("-"),
        );
        Ok(())
    }
}
