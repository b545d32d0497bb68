package transport

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// specEncode is a header value as the protocol tells clients to write it:
// plain when it is visible ASCII without surrounding whitespace and not
// shaped like the sentinel, else =?base64?...?=.
func specEncode(s string) string {
	plain := s == "" || (s[0] != ' ' && s[0] != '\t' && s[len(s)-1] != ' ' && s[len(s)-1] != '\t')
	for i := 0; plain && i < len(s); i++ {
		plain = s[i] >= 0x20 && s[i] <= 0x7e
	}
	if plain && !(strings.HasPrefix(s, base64Prefix) && strings.HasSuffix(s, base64Suffix)) {
		return s
	}
	return base64Prefix + base64.StdEncoding.EncodeToString([]byte(s)) + base64Suffix
}

var integerForm = regexp.MustCompile(`^-?[0-9]+(\.0+)?$`)

// FuzzParamHeaderAgreement: a header written as the protocol says always
// matches its body value, and a header the check accepts always means the
// body value: the same string (literally or base64-wrapped), or for an
// integer the same number in decimal.
func FuzzParamHeaderAgreement(f *testing.F) {
	for _, s := range []string{"us-west1", "Hello, 世界", " padded ", "line1\nline2", "=?base64?literal?=", "=?base64?SGVsbG8=", "", "\xff"} {
		f.Add(s, specEncode(s), int64(42), "42.0")
	}
	f.Add("a", "=?base64?YQ?=", int64(-7), "-7")
	f.Add("a", "=?base64?YQ==?=", int64(9007199254740991), "9007199254740991")
	f.Fuzz(func(t *testing.T, body, header string, n int64, intHeader string) {
		str := mcpkit.ParamHeader{Argument: "a", Name: "A", Type: "string"}
		raw, err := json.Marshal(body)
		if err != nil {
			t.Skip()
		}
		var canonical string // what the handler decodes (invalid UTF-8 replaced)
		if err := json.Unmarshal(raw, &canonical); err != nil {
			t.Fatal(err)
		}
		if p := compareParam(str, "Mcp-Param-A", specEncode(canonical), raw); p != "" {
			t.Fatalf("spec encoding %q of %q refused: %s", specEncode(canonical), canonical, p)
		}
		if compareParam(str, "Mcp-Param-A", header, raw) == "" {
			inner, prefixed := strings.CutPrefix(header, base64Prefix)
			inner, suffixed := strings.CutSuffix(inner, base64Suffix)
			switch {
			case header == canonical:
			case prefixed && suffixed:
				dec, err := base64.StdEncoding.DecodeString(inner)
				if err != nil || string(dec) != canonical {
					t.Fatalf("header %q accepted for body %q", header, canonical)
				}
			default:
				t.Fatalf("header %q accepted for body %q", header, canonical)
			}
		}

		integer := mcpkit.ParamHeader{Argument: "n", Name: "N", Type: "integer"}
		rawN := []byte(strconv.FormatInt(n, 10))
		inRange := n <= maxSafeInteger && n >= -maxSafeInteger
		if p := compareParam(integer, "Mcp-Param-N", strconv.FormatInt(n, 10), rawN); (p == "") != inRange {
			t.Fatalf("integer %d: in range %v, check says %q", n, inRange, p)
		}
		if compareParam(integer, "Mcp-Param-N", intHeader, rawN) == "" {
			whole, _, _ := strings.Cut(intHeader, ".")
			v, err := strconv.ParseInt(whole, 10, 64)
			if !integerForm.MatchString(intHeader) || err != nil || v != n {
				t.Fatalf("integer header %q accepted for body %d", intHeader, n)
			}
		}
	})
}
