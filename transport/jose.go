package transport

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// JOSE checks the JOSE library does not make. They run on the token's own
// bytes before the library parses it, so that the token means one thing to
// every reader: the library, a proxy, the issuer's tooling, the audit.

// registeredHeaders are the JWS header parameters of RFC 7515 and RFC 7797.
// A crit list may not name them, nor may CriticalHeaders: b64 would change
// what is signed, the rest are understood by definition.
var registeredHeaders = []string{"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "b64"}

// checkCriticalConfig validates JWTConfig.CriticalHeaders.
func checkCriticalConfig(names []string) (map[string]bool, error) {
	out := make(map[string]bool, len(names))
	for _, n := range names {
		switch {
		case n == "":
			return nil, errors.New("jwt: CriticalHeaders has an empty name")
		case slices.Contains(registeredHeaders, n):
			return nil, fmt.Errorf("jwt: CriticalHeaders cannot list the registered parameter %q", n)
		case out[n]:
			return nil, fmt.Errorf("jwt: CriticalHeaders lists %q twice", n)
		}
		out[n] = true
	}
	return out, nil
}

// checkCompactJWS refuses a compact JWS unless every part is unpadded
// base64url in its one canonical spelling, the header and the payload are
// each exactly one JSON object with no member name twice in any object,
// and the header's crit, if any, lists only understood extensions.
//
// The JOSE library decodes leniently (padding, the standard alphabet,
// spare bits, whitespace, bytes after the JSON) and lets the last of two
// same-named members win: one signature would have many spellings, and
// anything keyed on the token's bytes (a deny list, a replay cache) or
// reading it with another parser (first member wins) could be walked
// around.
func checkCompactJWS(token string, critical map[string]bool) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("not a compact JWS")
	}
	for i, part := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(part)
		if err != nil || base64.RawURLEncoding.EncodeToString(b) != part {
			return errors.New("not canonical base64url")
		}
		if i == 2 {
			break
		}
		what := [2]string{"header", "claims"}[i]
		if err := checkJSONObject(b); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if i == 0 {
			if err := checkCrit(b, critical); err != nil {
				return fmt.Errorf("header: %w", err)
			}
		}
	}
	return nil
}

// checkJSONObject reports whether b is exactly one JSON object in which no
// object, at any depth, has two members of the same name (compared after
// unescaping, so "alg" and "\u0061lg" are the same name).
func checkJSONObject(b []byte) error {
	if !json.Valid(b) {
		return errors.New("not exactly one JSON value")
	}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return errors.New("not a JSON object")
	}
	type frame struct {
		names     map[string]bool // nil for an array
		expectKey bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				f := &frame{}
				if v == '{' {
					f.names, f.expectKey = map[string]bool{}, true
				}
				stack = append(stack, f)
				continue
			default: // '}' or ']'
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].names != nil {
					stack[len(stack)-1].expectKey = true
				}
				continue
			}
		case string:
			if top != nil && top.names != nil && top.expectKey {
				if top.names[v] {
					return fmt.Errorf("member %q appears twice", v)
				}
				top.names[v] = true
				top.expectKey = false
				continue
			}
		}
		// A scalar value.
		if top != nil && top.names != nil {
			top.expectKey = true
		}
	}
}

// checkCrit applies RFC 7515 §4.1.11 to a header already known to be one
// object with unique member names: crit, when present, is a non-empty
// array of distinct names, each an extension this server understands and
// present in the header.
func checkCrit(header []byte, understood map[string]bool) error {
	var h map[string]json.RawMessage
	if err := json.Unmarshal(header, &h); err != nil {
		return err
	}
	raw, ok := h["crit"]
	if !ok {
		return nil
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil || len(names) == 0 {
		return errors.New("crit is not a non-empty array of names")
	}
	seen := map[string]bool{}
	for _, n := range names {
		switch {
		case seen[n]:
			return fmt.Errorf("crit lists %q twice", n)
		case !understood[n]:
			return fmt.Errorf("crit names %q, which this server does not understand", n)
		}
		if _, present := h[n]; !present {
			return fmt.Errorf("crit names %q, which the header lacks", n)
		}
		seen[n] = true
	}
	return nil
}
