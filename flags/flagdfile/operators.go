package flagdfile

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/twmb/murmur3"
)

// flagd's custom JsonLogic operations.
const (
	opFractional = "fractional"
	opStartsWith = "starts_with"
	opEndsWith   = "ends_with"
	opSemVer     = "sem_ver"
)

// customOp evaluates one flagd operation on its already evaluated
// arguments. Like flagd, an operation whose arguments do not fit returns
// nil, which makes the rule fall back to the flag's default variant.
func customOp(op string, args []any, data map[string]any) any {
	switch op {
	case opFractional:
		return fractional(args, data)
	case opStartsWith, opEndsWith:
		if len(args) != 2 {
			return nil
		}
		s, ok1 := args[0].(string)
		affix, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil
		}
		if op == opStartsWith {
			return strings.HasPrefix(s, affix)
		}
		return strings.HasSuffix(s, affix)
	case opSemVer:
		return semVerOp(args)
	}
	return nil
}

// fractional assigns the caller to a bucket exactly as flagd does (since
// flagd's "fractional bucketing improvements", open-feature/flagd#1909):
// the bucketing value is the first argument when it is a string, else the
// flag key followed by the targeting key; its 32-bit murmur3 hash h maps to
// (h * totalWeight) >> 32, and the first bucket whose running weight exceeds
// that value wins. Without a bucketing value (no targeting key) the result
// is nil, so the flag's default variant applies.
func fractional(args []any, data map[string]any) any {
	if len(args) == 0 {
		return nil
	}
	var bucketBy string
	buckets := args
	if s, ok := args[0].(string); ok {
		bucketBy, buckets = s, args[1:]
	} else {
		if args[0] == nil {
			buckets = args[1:]
		}
		tk, ok := data["targetingKey"].(string)
		if !ok || tk == "" {
			return nil
		}
		bucketBy = flagKeyOf(data) + tk
	}
	if len(buckets) == 0 {
		return nil
	}
	type bucket struct {
		variant any
		weight  uint64
	}
	parsed := make([]bucket, 0, len(buckets))
	var total uint64
	for _, b := range buckets {
		arr, ok := b.([]any)
		if !ok || len(arr) == 0 {
			return nil
		}
		switch arr[0].(type) {
		case string, bool, float64, nil:
		default:
			return nil
		}
		w := uint64(1)
		if len(arr) >= 2 && arr[1] != nil {
			f, ok := arr[1].(float64)
			if !ok || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
				return nil
			}
			w = uint64(f)
		}
		total += w
		parsed = append(parsed, bucket{arr[0], w})
	}
	if total == 0 || total > math.MaxInt32 {
		return nil
	}
	point := (uint64(murmur3.StringSum32(bucketBy)) * total) >> 32
	var end uint64
	for _, b := range parsed {
		end += b.weight
		if point < end {
			return b.variant
		}
	}
	return nil
}

func flagKeyOf(data map[string]any) string {
	if p, ok := data["$flagd"].(map[string]any); ok {
		if k, ok := p["flagKey"].(string); ok {
			return k
		}
	}
	return ""
}

func semVerOp(args []any) any {
	if len(args) != 3 {
		return nil
	}
	op, ok := args[1].(string)
	if !ok || !validSemVerOp(op) {
		return nil
	}
	a, err1 := parseSemVer(versionString(args[0]))
	b, err2 := parseSemVer(versionString(args[2]))
	if err1 != nil || err2 != nil {
		return nil
	}
	switch op {
	case "=":
		return a.compare(b) == 0
	case "!=":
		return a.compare(b) != 0
	case "<":
		return a.compare(b) < 0
	case "<=":
		return a.compare(b) <= 0
	case ">":
		return a.compare(b) > 0
	case ">=":
		return a.compare(b) >= 0
	case "^":
		return a.major == b.major
	case "~":
		return a.major == b.major && a.minor == b.minor
	}
	return nil
}

func validSemVerOp(op string) bool {
	switch op {
	case "=", "!=", "<", "<=", ">", ">=", "^", "~":
		return true
	}
	return false
}

func versionString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// semVer is a parsed semantic version. As in flagd (which uses
// golang.org/x/mod/semver), a leading v or V is optional and the shorthands
// 1 and 1.2 mean 1.0.0 and 1.2.0.
type semVer struct {
	major, minor, patch uint64
	pre                 []string
}

func parseSemVer(s string) (semVer, error) {
	bad := func() (semVer, error) {
		return semVer{}, fmt.Errorf("%q is not a semantic version such as 1.2.3", s)
	}
	v := strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	if i := strings.IndexByte(v, '+'); i >= 0 {
		if !validIdents(v[i+1:], false) {
			return bad()
		}
		v = v[:i]
	}
	var pre string
	if i := strings.IndexByte(v, '-'); i >= 0 {
		v, pre = v[:i], v[i+1:]
		if !validIdents(pre, true) {
			return bad()
		}
	}
	parts := strings.Split(v, ".")
	if len(parts) > 3 || (len(parts) < 3 && (pre != "" || strings.ContainsAny(s, "+"))) {
		return bad()
	}
	var nums [3]uint64
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') {
			return bad()
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return bad()
		}
		nums[i] = n
	}
	out := semVer{major: nums[0], minor: nums[1], patch: nums[2]}
	if pre != "" {
		out.pre = strings.Split(pre, ".")
	}
	return out, nil
}

func validIdents(s string, noLeadingZero bool) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		numeric := true
		for _, r := range id {
			switch {
			case r >= '0' && r <= '9':
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-':
				numeric = false
			default:
				return false
			}
		}
		if noLeadingZero && numeric && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

// compare orders versions by semantic-versioning precedence.
func (a semVer) compare(b semVer) int {
	for _, d := range [][2]uint64{{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		if c := compareIdent(a.pre[i], b.pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) < len(b.pre):
		return -1
	case len(a.pre) > len(b.pre):
		return 1
	}
	return 0
}

func compareIdent(x, y string) int {
	nx, errx := strconv.ParseUint(x, 10, 64)
	ny, erry := strconv.ParseUint(y, 10, 64)
	switch {
	case errx == nil && erry == nil:
		switch {
		case nx < ny:
			return -1
		case nx > ny:
			return 1
		}
		return 0
	case errx == nil:
		return -1
	case erry == nil:
		return 1
	}
	return strings.Compare(x, y)
}
