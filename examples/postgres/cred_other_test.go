//go:build !unix

package main

import (
	"os/user"
	"syscall"
)

// credential is unused off unix: there the tests run as the current user.
func credential(*user.User) *syscall.SysProcAttr { return nil }
