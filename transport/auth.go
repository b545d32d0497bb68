package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"

	"github.com/mcpkit-go/mcpkit/internal/loopback"
	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Authenticator turns a bearer token into the caller's identity. It is the
// one interface every token scheme (JWT, introspection, static dev tokens)
// implements.
//
// Return an error wrapping ErrInvalidToken when the token is not good
// (401), ErrUnavailable when the token could not be checked because a
// dependency is down (503). Any other error is treated as unavailable.
// Errors never reach the client: it sees only "invalid" or "unavailable".
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (mcpkit.Identity, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, token string) (mcpkit.Identity, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, token string) (mcpkit.Identity, error) {
	return f(ctx, token)
}

var (
	// ErrInvalidToken: the token is malformed, expired, not for this
	// server, or its signature does not verify. (The text avoids
	// "token:", which the audit redactor reads as a secret assignment.)
	ErrInvalidToken = errors.New("access token rejected")
	// ErrExpiredToken is an ErrInvalidToken that has only expired: the
	// client may say so, since a refresh fixes it.
	ErrExpiredToken = &expiredError{}
	// ErrUnavailable: the token could not be checked (introspection endpoint
	// down). The request is refused; never let through.
	ErrUnavailable = errors.New("token verification unavailable")
)

type expiredError struct{}

func (*expiredError) Error() string        { return "token expired" }
func (*expiredError) Is(target error) bool { return target == ErrInvalidToken }

// AnyOf tries each authenticator in turn until one accepts the token; a
// token every one rejects is invalid. Use it to accept JWTs and, say,
// introspected opaque tokens on one endpoint. An AnyOf of nothing, or one
// holding a nil authenticator, is refused by NewHandler and refuses every
// token.
func AnyOf(auths ...Authenticator) Authenticator {
	c := &chain{auths: auths}
	if len(auths) == 0 {
		c.err = errors.New("AnyOf of no authenticators accepts no token")
	}
	for i, a := range auths {
		if err := checkAuthenticator(a); err != nil {
			c.err = fmt.Errorf("AnyOf member %d: %w", i+1, err)
			break
		}
	}
	return c
}

type chain struct {
	auths []Authenticator
	err   error // a construction fault: every token is refused
}

func (c *chain) check() error { return c.err }

// Authenticate implements Authenticator.
func (c *chain) Authenticate(ctx context.Context, token string) (mcpkit.Identity, error) {
	if c.err != nil {
		return mcpkit.Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, c.err)
	}
	var errs []error
	for _, a := range c.auths {
		id, err := a.Authenticate(ctx, token)
		if err == nil {
			return id, nil
		}
		errs = append(errs, err)
	}
	// Any scheme that could not decide makes the whole answer "could
	// not decide" (503), never "invalid" and never a pass.
	var undecided []error
	for _, e := range errs {
		if !errors.Is(e, ErrInvalidToken) {
			undecided = append(undecided, e)
		}
	}
	if len(undecided) > 0 {
		return mcpkit.Identity{}, errors.Join(append([]error{ErrUnavailable}, undecided...)...)
	}
	return mcpkit.Identity{}, errors.Join(errs...)
}

// checkAuthenticator refuses an authenticator that would fail at the first
// request: nil, a typed nil (a nil *StaticTokens is a non-nil interface
// value whose methods dereference nil), or an AnyOf holding one.
func checkAuthenticator(a Authenticator) error {
	if a == nil {
		return errors.New("the authenticator is nil")
	}
	v := reflect.ValueOf(a)
	switch v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Interface, reflect.Chan:
		if v.IsNil() {
			return fmt.Errorf("the authenticator %T is nil", a)
		}
	}
	if c, ok := a.(interface{ check() error }); ok {
		return c.check()
	}
	return nil
}

// isLoopbackAddr reports whether a listen or local address is loopback
// only. ":8080" and "0.0.0.0:8080" listen everywhere and are not.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return loopback.Host(host)
}

// localAddrIsLoopback reports whether the connection that carried ctx's
// request arrived on a loopback address. Without that information it says
// no (fail closed).
func localAddrIsLoopback(ctx context.Context) bool {
	a, ok := ctx.Value(http.LocalAddrContextKey).(net.Addr)
	return ok && a != nil && isLoopbackAddr(a.String())
}

// RequestAuthenticator adapts a to authenticate a plain HTTP request by its
// bearer token, so that other endpoints of the service (an approval console)
// accept exactly the credentials the MCP endpoint does.
func RequestAuthenticator(a Authenticator) func(r *http.Request) (mcpkit.Identity, error) {
	if err := checkAuthenticator(a); err != nil {
		return func(*http.Request) (mcpkit.Identity, error) {
			return mcpkit.Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
		}
	}
	return func(r *http.Request) (mcpkit.Identity, error) {
		token, ok := bearerToken(r)
		if !ok {
			return mcpkit.Identity{}, errors.New("no bearer token")
		}
		return a.Authenticate(r.Context(), token)
	}
}
