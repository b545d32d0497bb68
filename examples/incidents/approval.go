package main

// approvalFeature is not wired yet.
func approvalFeature() feature { return feature{name: "approval"} }
