package flagdfile

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/diegoholiveira/jsonlogic/v3"
	"github.com/open-feature/go-sdk/openfeature"
)

// resolution is the outcome of evaluating one flag, before the caller's
// type is applied.
type resolution struct {
	value   any
	variant string
	reason  openfeature.Reason
	// useDefault means no variant applies: the caller's default value is
	// the answer (flagd: a disabled flag, or no defaultVariant).
	useDefault bool
	err        *openfeature.ResolutionError
}

func resolutionError(re openfeature.ResolutionError) resolution {
	return resolution{reason: openfeature.ErrorReason, err: &re}
}

// resolve evaluates flag f for the flattened evaluation context.
func (f *flagDef) resolve(evalCtx openfeature.FlattenedContext, now time.Time) (res resolution) {
	if !f.enabled {
		return resolution{useDefault: true, reason: openfeature.DisabledReason}
	}
	if f.targeting == nil {
		return f.variantOrDefault(f.defaultVariant, openfeature.StaticReason)
	}
	defer func() {
		// The engine panics on some malformed rules; a panic is an
		// evaluation error, never a crash.
		if v := recover(); v != nil {
			res = resolutionError(openfeature.NewGeneralResolutionError(fmt.Sprintf("flag %s: targeting failed: %v", f.key, v)))
		}
	}()
	data := normalizeContext(evalCtx)
	data["$flagd"] = map[string]any{"flagKey": f.key, "timestamp": float64(now.Unix())}
	dataJSON, err := json.Marshal(data)
	if err != nil {
		return resolutionError(openfeature.NewParseErrorResolutionError(fmt.Sprintf("flag %s: the evaluation context is not JSON: %v", f.key, err)))
	}
	rule := f.targetingJSON
	if f.custom {
		if rule, err = json.Marshal(resolveCustom(f.targeting, data, dataJSON)); err != nil {
			return resolutionError(openfeature.NewGeneralResolutionError(fmt.Sprintf("flag %s: targeting failed: %v", f.key, err)))
		}
	}
	out, err := applyRule(rule, dataJSON)
	if err != nil {
		return resolutionError(openfeature.NewParseErrorResolutionError(fmt.Sprintf("flag %s: targeting failed: %v", f.key, err)))
	}
	var name string
	switch v := out.(type) {
	case nil:
		return f.variantOrDefault(f.defaultVariant, openfeature.DefaultReason)
	case string:
		name = v
	case bool:
		name = strconv.FormatBool(v)
	case float64:
		name = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return resolutionError(openfeature.NewGeneralResolutionError(fmt.Sprintf("flag %s: targeting returned %s, not a variant name", f.key, short(out))))
	}
	value, ok := f.variants[name]
	if !ok {
		return resolutionError(openfeature.NewGeneralResolutionError(fmt.Sprintf("flag %s: targeting returned variant %q, which the flag does not define", f.key, name)))
	}
	return resolution{value: value, variant: name, reason: openfeature.TargetingMatchReason}
}

func (f *flagDef) variantOrDefault(name string, reason openfeature.Reason) resolution {
	if name == "" {
		return resolution{useDefault: true, reason: openfeature.DefaultReason}
	}
	return resolution{value: f.variants[name], variant: name, reason: reason}
}

// applyRule runs the JsonLogic engine on a rule and data, both JSON, and
// decodes its answer.
func applyRule(rule, data json.RawMessage) (any, error) {
	raw, err := jsonlogic.ApplyRaw(rule, data)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// resolveCustom replaces each flagd operation in rule by its result, inner
// ones first, so that the JsonLogic engine (whose custom operations are
// process-global) only ever sees its own operations. The rule itself is
// shared and never modified: changed nodes are copies. data and dataJSON
// are the same context, decoded and encoded.
func resolveCustom(node any, data map[string]any, dataJSON json.RawMessage) any {
	out, _ := resolveNode(node, data, dataJSON)
	return out
}

func resolveNode(node any, data map[string]any, dataJSON json.RawMessage) (any, bool) {
	switch n := node.(type) {
	case []any:
		var out []any
		for i, e := range n {
			r, changed := resolveNode(e, data, dataJSON)
			if changed && out == nil {
				out = make([]any, len(n))
				copy(out, n)
			}
			if out != nil {
				out[i] = r
			}
		}
		if out == nil {
			return n, false
		}
		return out, true
	case map[string]any:
		if len(n) != 1 {
			return n, false
		}
		for op, args := range n {
			switch {
			case isFlagdOp(op):
				list, _ := args.([]any)
				vals := make([]any, len(list))
				for i, a := range list {
					v, ok := argValue(a, data, dataJSON)
					if !ok {
						return nil, true
					}
					vals[i] = v
				}
				return literal(customOp(op, vals, data)), true
			case op == "var":
				return n, false
			}
			r, changed := resolveNode(args, data, dataJSON)
			if !changed {
				return n, false
			}
			return map[string]any{op: r}, true
		}
	}
	return node, false
}

// argValue evaluates one argument of a flagd operation. The two common
// forms, a literal and {"var": "name"}, are read directly, with the
// engine's meaning (a literal is itself; a name without dots is that
// attribute, nil when absent); anything else goes through the engine.
func argValue(a any, data map[string]any, dataJSON json.RawMessage) (any, bool) {
	switch x := a.(type) {
	case nil, bool, float64, string:
		return x, true
	case map[string]any:
		if name, ok := x["var"].(string); ok && len(x) == 1 && name != "" && !strings.Contains(name, ".") {
			return data[name], true
		}
	}
	rule, err := json.Marshal(resolveCustom(a, data, dataJSON))
	if err != nil {
		return nil, false
	}
	v, err := applyRule(rule, dataJSON)
	if err != nil {
		return nil, false
	}
	return v, true
}

// literal keeps a result the engine reads back as itself: a string,
// number, boolean or null.
func literal(v any) any {
	switch v.(type) {
	case nil, string, bool, float64:
		return v
	}
	return nil
}

// normalizeContext copies the evaluation context into the plain JSON types
// the engine understands ([]string becomes []any, integers float64, strings
// valid UTF-8), so that the flagd operations, which read it directly, see
// what the engine sees once it is encoded as JSON.
func normalizeContext(in openfeature.FlattenedContext) map[string]any {
	out := make(map[string]any, len(in)+1)
	for k, v := range in {
		out[validUTF8(k)] = normalizeValue(v)
	}
	return out
}

func normalizeValue(v any) any {
	switch x := v.(type) {
	case nil, bool, float64:
		return x
	case string:
		return validUTF8(x)
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = validUTF8(s)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[validUTF8(k)] = normalizeValue(e)
		}
		return out
	case time.Time:
		return float64(x.Unix())
	}
	// Anything else goes through its JSON form.
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}

// validUTF8 replaces each byte that is not UTF-8 with U+FFFD, as
// encoding/json does when it encodes a string.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
