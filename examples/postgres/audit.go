package main

// auditFeature is not wired yet. When it is, the database error behind a
// refusal (Call.Err) is what lands in the audit record.
func auditFeature() feature { return feature{name: "audit"} }
