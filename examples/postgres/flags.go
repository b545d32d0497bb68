package main

// flagsFeature is not wired yet.
func flagsFeature() feature { return feature{name: "flags"} }
