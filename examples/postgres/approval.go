package main

// approvalFeature is not wired: every tool here is read-only, so the
// default approval rule is "never". A server that adds a write tool wires
// the approval gate here, as examples/incidents does.
func approvalFeature() feature { return feature{name: "approval"} }
