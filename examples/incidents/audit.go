package main

// auditFeature is not wired yet.
func auditFeature() feature { return feature{name: "audit"} }
