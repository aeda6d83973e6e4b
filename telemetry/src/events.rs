//! The names of the events beamish itself emits. The table in the crate docs lists each
//! one's measurements and metadata.

/// Events about telemetry itself.
pub mod telemetry {
    use crate::EventName;

    /// A handler panicked and was detached. Metadata: `handler_id`, `event_name` (dotted),
    /// `reason` (the panic message).
    pub const HANDLER_FAILURE: EventName = EventName::new(&["telemetry", "handler", "failure"]);
}
