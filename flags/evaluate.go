package flags

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"

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
	rule := f.targeting
	if f.custom {
		rule = resolveCustom(rule, data)
	}
	//lint:ignore SA1019 being replaced where the file provider moves to its own package
	out, err := jsonlogic.ApplyInterface(rule, data)
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

// resolveCustom replaces each flagd operation in rule by its result, inner
// ones first, so that the JsonLogic engine (whose custom operations are
// process-global) only ever sees its own operations. The rule itself is
// shared and never modified: changed nodes are copies.
func resolveCustom(node any, data map[string]any) any {
	out, _ := resolveNode(node, data)
	return out
}

func resolveNode(node any, data map[string]any) (any, bool) {
	switch n := node.(type) {
	case []any:
		var out []any
		for i, e := range n {
			r, changed := resolveNode(e, data)
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
					//lint:ignore SA1019 being replaced where the file provider moves to its own package
					v, err := jsonlogic.ApplyInterface(resolveCustom(a, data), data)
					if err != nil {
						return nil, true
					}
					vals[i] = v
				}
				return literal(customOp(op, vals, data)), true
			case op == "var":
				return n, false
			}
			r, changed := resolveNode(args, data)
			if !changed {
				return n, false
			}
			return map[string]any{op: r}, true
		}
	}
	return node, false
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
// the engine understands ([]string becomes []any, integers float64).
func normalizeContext(in openfeature.FlattenedContext) map[string]any {
	out := make(map[string]any, len(in)+1)
	for k, v := range in {
		out[k] = normalizeValue(v)
	}
	return out
}

func normalizeValue(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64:
		return x
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
			out[i] = s
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeValue(e)
		}
		return out
	case map[string]any:
		out := maps.Clone(x)
		for k, e := range out {
			out[k] = normalizeValue(e)
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
