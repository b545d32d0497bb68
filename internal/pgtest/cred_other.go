//go:build !unix

package pgtest

import (
	"os/user"
	"syscall"
)

// credential is unused off unix: there the tests run as the current user.
func credential(*user.User) *syscall.SysProcAttr { return nil }
