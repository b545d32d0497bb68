// Package loopback tells whether a host or an address stays on this
// machine. The library allows some things on loopback only (static
// development tokens, -no-auth, a plain-http client URL); one definition
// keeps those decisions the same everywhere.
package loopback

import "net"

// Host reports whether host is "localhost" or a loopback IP address
// (127.0.0.0/8, ::1). An empty host, a name other than localhost or
// an unspecified address (0.0.0.0, ::) is not: it may be reached from
// elsewhere.
func Host(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr reports whether addr, a host:port, is on a loopback host. An
// address that does not parse as host:port is not (fail closed); ":8080"
// listens on every interface and is not either.
func Addr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && Host(host)
}
