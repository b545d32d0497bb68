//go:build unix

package pgtest

import (
	"os/user"
	"strconv"
	"syscall"
)

// credential runs a child process as u.
func credential(u *user.User) *syscall.SysProcAttr {
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}
