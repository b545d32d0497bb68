package approval

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// sameSubject reports whether two subjects may be the same person: equal
// after Unicode NFC normalization and case folding. Identity providers
// differ on case ("Alice", "alice"), so the four-eyes rule treats such
// subjects as one person; refusing a distinct pair is the safe mistake.
func sameSubject(a, b string) bool {
	return strings.EqualFold(norm.NFC.String(a), norm.NFC.String(b))
}
