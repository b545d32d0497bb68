package flagdfile

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/twmb/murmur3"

	"github.com/mcpkit-go/mcpkit/flags"
)

// fuzzClock pins $flagd.timestamp so that evaluation is repeatable.
func fuzzClock() time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) }

// fuzzProvider serves cfg the way a loaded Provider does, without a
// file or a watcher.
func fuzzProvider(cfg *flagFile) *Provider {
	p := MustNew("fuzz-flags.json", WithClock(fuzzClock))
	p.cfg.Store(cfg)
	return p
}

// fuzzContexts are the callers every flag of an accepted file is evaluated
// for, flattened as the OpenFeature SDK hands them to a provider.
func fuzzContexts() []openfeature.FlattenedContext {
	return []openfeature.FlattenedContext{
		{},
		{
			openfeature.TargetingKey: "alice", flags.AttrEmail: "alice@example.com", flags.AttrGroups: []any{"ops", "dev"},
			flags.AttrClientName: "claude", flags.AttrClientVersion: "1.2.3", flags.AttrTool: "delete_db", flags.AttrRisk: "destructive", flags.AttrTransport: "http",
		},
		{
			openfeature.TargetingKey: "bob", flags.AttrEmail: "admin@corp.example", flags.AttrGroups: []any{},
			flags.AttrClientName: "", flags.AttrClientVersion: "0.9.0-rc.1", flags.AttrTool: "get_x", flags.AttrRisk: "read_only", flags.AttrTransport: "stdio",
		},
	}
}

// evaluation is everything a provider answers for one flag and context.
type evaluation struct {
	object openfeature.InterfaceResolutionDetail
	boolF  openfeature.BoolResolutionDetail
	boolT  openfeature.BoolResolutionDetail
	str    openfeature.StringResolutionDetail
	num    openfeature.FloatResolutionDetail
}

func evaluateAll(p *Provider, key string, fc openfeature.FlattenedContext) evaluation {
	ctx := context.Background()
	return evaluation{
		object: p.ObjectEvaluation(ctx, key, fuzzSentinel, fc),
		boolF:  p.BooleanEvaluation(ctx, key, false, fc),
		boolT:  p.BooleanEvaluation(ctx, key, true, fc),
		str:    p.StringEvaluation(ctx, key, "code-default", fc),
		num:    p.FloatEvaluation(ctx, key, -1.5, fc),
	}
}

// fuzzSentinel is the caller's default for an object evaluation: getting it
// back means "no variant applied".
const fuzzSentinel = "\x00sentinel"

// fuzzHang is how long one input may take before it counts as a hang.
const fuzzHang = 10 * time.Second

// maxFuzzFlags bounds the work per input: a file with more flags has its
// first ones (in key order) evaluated.
const maxFuzzFlags = 16

// FuzzFlagFile feeds arbitrary bytes as a flag-definition file through the
// file provider's parser. Whatever the input, parsing must not panic and
// must either refuse the file with a message or yield a configuration in
// which every flag, for every caller, evaluates to one of its declared
// variants (of the declared type), the caller's default, or an error: a
// boolean evaluation of a non-boolean flag never yields a variant, so the
// gate can only ever see a real boolean. Parsing and evaluation are
// deterministic.
func FuzzFlagFile(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `{"flags":{}}`, `{"flags":null}`, `{"flags":{}} {}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}}}`,
		`{"flags":{"tool.a":{"state":"DISABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":true,"off":false}}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":"yes","off":"no"},"defaultVariant":"on"}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":1,"off":0},"defaultVariant":"on","targeting":{"if":[{"==":[{"var":"tool"},"get_x"]},"off","on"]}}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"in":["ops",{"var":"groups"}]},"on",null]}}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"fractional":[["on",50],["off",50]]}}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"fractional":[{"var":"email"},["on",0],["off"]]}}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"starts_with":[{"var":"email"},"admin@"]},"on","off"]}}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"sem_ver":[{"var":"client_version"},">=","1.2.0"]},"on","off"]}}}}`,
		`{"$evaluators":{"ops":{"in":["ops",{"var":"groups"}]}},"flags":{"tool.a":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{"$ref":"ops"},"on","off"]}}}}`,
		`{"$evaluators":{"a":{"$ref":"b"},"b":{"$ref":"a"}},"flags":{}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"var":"tool"}}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"true":1,"false":0},"defaultVariant":"true","targeting":{"==":[{"var":"risk"},"read_only"]}}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"o":{"k":[1,2]}},"defaultVariant":"o","metadata":{"owner":"x"}}}}`,
		`{"flags":{"tool.a":{"State":"ENABLED","variants":{"on":true},"defaultVariant":"on"}}}`,
		`{"flags":{"tool.a":{"state":"ENABLED","variants":{"on":true,"off":"false"},"defaultVariant":"on"}}}`,
	} {
		f.Add([]byte(seed))
	}
	contexts := fuzzContexts()
	f.Fuzz(func(t *testing.T, data []byte) {
		// A file that takes this long to load and evaluate is a hang:
		// crash the worker so that the fuzzer keeps the input.
		watchdog := time.AfterFunc(fuzzHang, func() { panic(fmt.Sprintf("flag file %q: parsing and evaluating took over %v", data, fuzzHang)) })
		defer watchdog.Stop()
		cfg, err := parseConfig(data)
		cfg2, err2 := parseConfig(data)
		// Only the verdict is compared: of several unknown keys the
		// parser names whichever it meets first in map order.
		if (err == nil) != (err2 == nil) {
			t.Fatalf("parsing %q twice disagrees: %v / %v", data, err, err2)
		}
		if err != nil {
			if cfg != nil {
				t.Fatalf("parse of %q returned a configuration and an error: %v", data, err)
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("parse of %q refused with an empty message", data)
			}
			return
		}
		if cfg == nil || cfg.flags == nil {
			t.Fatalf("parse of %q returned neither a configuration nor an error", data)
		}
		p1, p2 := fuzzProvider(cfg), fuzzProvider(cfg2)
		keys := sortedKeys(cfg.flags)
		if len(keys) > maxFuzzFlags {
			keys = keys[:maxFuzzFlags]
		}
		for _, key := range keys {
			def := cfg.flags[key]
			for i, fc := range contexts {
				got := evaluateAll(p1, key, fc)
				checkEvaluation(t, data, key, i, def, got)
				if again := evaluateAll(p1, key, fc); !reflect.DeepEqual(got, again) {
					t.Fatalf("flag %q, context %d of %q: evaluation is not deterministic:\n%+v\n%+v", key, i, data, got, again)
				}
				if other := evaluateAll(p2, key, fc); !reflect.DeepEqual(got, other) {
					t.Fatalf("flag %q, context %d of %q: the same file parsed again evaluates differently:\n%+v\n%+v", key, i, data, got, other)
				}
			}
		}
		// A flag the file does not define is an error for every type.
		if d := p1.BooleanEvaluation(context.Background(), "\x00not-a-flag", true, contexts[1]); d.ResolutionDetail().ErrorCode != openfeature.FlagNotFoundCode || !d.Value {
			t.Fatalf("undefined flag in %q: %+v", data, d)
		}
	})
}

// checkEvaluation asserts what every answer for flag key may be.
func checkEvaluation(t *testing.T, data []byte, key string, ctxIdx int, def *flagDef, ev evaluation) {
	t.Helper()
	where := func() string {
		return "flag " + strconv.Quote(key) + ", context " + strconv.Itoa(ctxIdx) + " of " + strconv.Quote(string(data))
	}

	// The typeless evaluation: a declared variant with its exact value,
	// the caller's default with a reason that says why, or an error.
	o := ev.object
	od := o.ResolutionDetail()
	switch {
	case od.ErrorCode != "":
		if o.Value != fuzzSentinel || od.Reason != openfeature.ErrorReason || od.ErrorMessage == "" {
			t.Fatalf("%s: an error must return the caller's default with reason ERROR and a message: %+v", where(), o)
		}
	case od.Variant == "":
		if o.Value != fuzzSentinel || (od.Reason != openfeature.DisabledReason && od.Reason != openfeature.DefaultReason) {
			t.Fatalf("%s: no variant, but not the caller's default with reason DISABLED or DEFAULT: %+v", where(), o)
		}
		if def.enabled && def.targeting == nil && def.defaultVariant != "" {
			t.Fatalf("%s: an enabled flag without targeting must serve its default variant %q: %+v", where(), def.defaultVariant, o)
		}
	default:
		want, ok := def.variants[od.Variant]
		if !ok || !reflect.DeepEqual(o.Value, want) {
			t.Fatalf("%s: variant %q with value %#v is not a declared variant (%v)", where(), od.Variant, o.Value, def.variants)
		}
		if k, err := kindOf(o.Value); err != nil || k != def.kind {
			t.Fatalf("%s: value %#v is not of the flag's type %s", where(), o.Value, def.kind)
		}
		if !def.enabled {
			t.Fatalf("%s: a disabled flag served variant %q", where(), od.Variant)
		}
	}

	// The gate's question. A boolean answer that is not the caller's
	// default must come from a boolean variant: a string "true", a 1 or an
	// object can never open a gate.
	for _, b := range []struct {
		def bool
		d   openfeature.BoolResolutionDetail
	}{{false, ev.boolF}, {true, ev.boolT}} {
		bd := b.d.ResolutionDetail()
		switch {
		case bd.ErrorCode != "":
			if b.d.Value != b.def {
				t.Fatalf("%s: a failed boolean evaluation returned %v, not the caller's default %v", where(), b.d.Value, b.def)
			}
			if def.kind != kindBool && bd.ErrorCode != openfeature.TypeMismatchCode && od.ErrorCode == "" {
				t.Fatalf("%s: a %s flag asked as a boolean failed with %s, not TYPE_MISMATCH", where(), def.kind, bd.ErrorCode)
			}
		case bd.Variant == "":
			if b.d.Value != b.def {
				t.Fatalf("%s: no variant, but the value %v is not the caller's default %v", where(), b.d.Value, b.def)
			}
		default:
			if def.kind != kindBool {
				t.Fatalf("%s: a %s flag answered a boolean evaluation with variant %q", where(), def.kind, bd.Variant)
			}
			if want := def.variants[bd.Variant]; want != b.d.Value {
				t.Fatalf("%s: boolean evaluation returned %v for variant %q whose value is %#v", where(), b.d.Value, bd.Variant, want)
			}
		}
		// The boolean and typeless evaluations pick the same variant.
		if bd.ErrorCode == "" && od.ErrorCode == "" && bd.Variant != od.Variant {
			t.Fatalf("%s: boolean evaluation picked %q, typeless %q", where(), bd.Variant, od.Variant)
		}
	}
	sd, nd := ev.str.ResolutionDetail(), ev.num.ResolutionDetail()
	if sd.ErrorCode == "" && sd.Variant != "" && def.kind != kindString {
		t.Fatalf("%s: a %s flag answered a string evaluation with variant %q", where(), def.kind, sd.Variant)
	}
	if nd.ErrorCode == "" && nd.Variant != "" && def.kind != kindNumber {
		t.Fatalf("%s: a %s flag answered a number evaluation with variant %q", where(), def.kind, nd.Variant)
	}
	if (sd.ErrorCode != "" && ev.str.Value != "code-default") || (nd.ErrorCode != "" && ev.num.Value != -1.5) {
		t.Fatalf("%s: a failed typed evaluation did not return the caller's default: %+v %+v", where(), ev.str, ev.num)
	}
}

// targetingFile exercises flagd's custom operations with rules whose
// answer the fuzz target can work out on its own.
const targetingFile = `{"flags": {
  "rollout": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
    "targeting": {"fractional": [["on", 30], ["off", 70]]}},
  "weighted": {"state": "ENABLED", "variants": {"a": "A", "z": "Z", "b": "B", "c": "C"}, "defaultVariant": "z",
    "targeting": {"fractional": [{"var": "email"}, ["a", 10], ["z", 0], ["b", 25], ["c", 65]]}},
  "admins": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
    "targeting": {"if": [{"starts_with": [{"var": "email"}, "admin@"]}, "on", "off"]}},
  "ops": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
    "targeting": {"if": [{"in": ["ops", {"var": "groups"}]}, "on", "off"]}},
  "modern": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
    "targeting": {"if": [{"sem_ver": [{"var": "client_version"}, ">=", "1.2.0"]}, "on", "off"]}}
}}`

// strictVersion is a plain MAJOR.MINOR.PATCH release, the one form the
// fuzz target compares by itself.
var strictVersion = regexp.MustCompile(`^v?(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$`)

// bucket is flagd's fractional bucketing, written out independently:
// (murmur3_32(by) * total) >> 32 lands in the first bucket whose running
// weight exceeds it.
func bucket(by string, names []string, weights []uint64) string {
	var total uint64
	for _, w := range weights {
		total += w
	}
	point := (uint64(murmur3.StringSum32(by)) * total) >> 32
	var end uint64
	for i, w := range weights {
		end += w
		if point < end {
			return names[i]
		}
	}
	return ""
}

// asJSON is s as a JSON decoder reads it back after encoding/json wrote it.
func asJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// FuzzTargeting evaluates a fixed file for arbitrary callers. Every answer
// must be deterministic and match flagd's semantics: fractional buckets
// follow the weights (a zero-weight bucket is never chosen, no targeting
// key means the default variant), starts_with and "in" match exactly, and
// sem_ver never lets a version below its bound or one that is not a
// version through.
func FuzzTargeting(f *testing.F) {
	for _, s := range [][5]string{
		{"alice", "alice@example.com", "ops", "dev", "1.2.3"},
		{"", "admin@corp", "", "", "1.2.0"},
		{"bob", "", "dev", "ops", "v1.10.0"},
		{"carol", "Admin@corp", "OPS", "", "1.2.0-rc.1"},
		{"dave", "admin@", "ops", "ops", "1.1.99"},
		{"\x00", "\xff\xfe", "", "ops ", "2"},
		{"eve", "x@y", "", "", "1.2"},
		{"frank", "", "", "", "01.2.3"},
		{"grace", "admin@x", "", "", "1.2.3+build.7"},
		{strings.Repeat("k", 300), "e", "", "", "99999999999999999999.0.0"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	cfg, err := parseConfig([]byte(targetingFile))
	if err != nil {
		f.Fatal(err)
	}
	p := fuzzProvider(cfg)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, targetingKey, email, group1, group2, version string) {
		fc := openfeature.FlattenedContext{
			flags.AttrEmail: email, flags.AttrGroups: []any{group1, group2}, flags.AttrClientVersion: version,
		}
		if targetingKey != "" {
			fc[openfeature.TargetingKey] = targetingKey
		}
		boolean := func(key string) openfeature.BoolResolutionDetail {
			d := p.BooleanEvaluation(ctx, key, false, fc)
			if again := p.BooleanEvaluation(ctx, key, false, fc); !reflect.DeepEqual(d, again) {
				t.Fatalf("%s for %q: not deterministic: %+v / %+v", key, fc, d, again)
			}
			if d.Error() != nil {
				t.Fatalf("%s for %q: %v", key, fc, d.Error())
			}
			return d
		}

		// The context reaches the rules as JSON: a byte that is not UTF-8
		// is U+FFFD there, as in flagd.
		tk, email := asJSON(targetingKey), asJSON(email)

		// rollout: 30/70 on the flag key and the targeting key.
		d := boolean("rollout")
		if targetingKey == "" {
			if d.Variant != "off" || d.Reason != openfeature.DefaultReason {
				t.Fatalf("rollout without a targeting key: want the default variant, got %+v", d)
			}
		} else if want := bucket("rollout"+tk, []string{"on", "off"}, []uint64{30, 70}); d.Variant != want || d.Value != (want == "on") {
			t.Fatalf("rollout for %q: got %+v, flagd buckets it %q", targetingKey, d, want)
		}

		// weighted: bucketed by email, the zero-weight bucket never wins.
		s := p.StringEvaluation(ctx, "weighted", "", fc)
		want := bucket(email, []string{"a", "z", "b", "c"}, []uint64{10, 0, 25, 65})
		if s.Error() != nil || s.Variant != want || s.Variant == "z" || s.Value != strings.ToUpper(want) {
			t.Fatalf("weighted for email %q: got %+v, flagd buckets it %q", email, s, want)
		}

		if d := boolean("admins"); d.Value != strings.HasPrefix(email, "admin@") {
			t.Fatalf("admins for email %q: got %+v", email, d)
		}
		if d := boolean("ops"); d.Value != slices.Contains([]string{group1, group2}, "ops") {
			t.Fatalf("ops for groups %q, %q: got %+v", group1, group2, d)
		}

		d = boolean("modern")
		if m := strictVersion.FindStringSubmatch(version); m != nil {
			var v [3]uint64
			for i := range v {
				v[i], _ = strconv.ParseUint(m[i+1], 10, 64)
			}
			atLeast := v[0] > 1 || v[0] == 1 && v[1] >= 2
			if d.Value != atLeast {
				t.Fatalf("modern for version %q: got %+v, want %v", version, d, atLeast)
			}
		} else if d.Value {
			// Anything else that passes must at least parse as a version
			// at or above the bound, by the package's own reading.
			sv, err := parseSemVer(version)
			if err != nil || sv.compare(semVer{major: 1, minor: 2}) < 0 {
				t.Fatalf("modern let version %q through (%v)", version, err)
			}
			if strings.ContainsFunc(version, func(r rune) bool { return r > math.MaxInt8 || r <= ' ' }) {
				t.Fatalf("modern let version %q with non-ASCII or space through", version)
			}
		}
	})
}
