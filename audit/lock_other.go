//go:build !unix

package audit

import "os"

// lockFile does not lock where flock is not available: there, keeping
// one writer per file is the deployment's job.
func lockFile(*os.File) error { return nil }
