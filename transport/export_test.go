package transport

import "time"

// Test hooks for the black-box tests in transport_test: a fixed clock is
// not a knob a server should have, so it is exported to tests only.

// WithJWKSClock replaces time.Now in a RemoteJWKS.
func WithJWKSClock(now func() time.Time) JWKSOption { return withJWKSClock(now) }

// NewJWTAuthenticatorAt is NewJWTAuthenticator with a fixed clock.
func NewJWTAuthenticatorAt(cfg JWTConfig, now func() time.Time) (*JWTAuthenticator, error) {
	return newJWTAuthenticator(cfg, now)
}
