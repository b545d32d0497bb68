package ratelimit

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Rules says which limit applies to a call: a tool's own limit when it has
// one, else its risk class's, else none (the call is not limited). Each
// limit is per subject: every caller has its own buckets.
//
// A class limit is one budget for all the class's tools together
// (read_only=20/s: twenty read-only calls a second across every read-only
// tool); a tool limit is a budget for that tool alone, instead of (not
// on top of) its class's.
type Rules struct {
	// Class maps a risk to its limit.
	Class map[mcpkit.Risk]Limit
	// Tool maps a tool name to its own limit.
	Tool map[string]Limit
}

// rule is the limit of one call and the bucket it counts against.
type rule struct {
	limit Limit
	// bucket names the budget: "class:read_only" or "tool:NAME".
	bucket string
	// what describes the budget to the caller: "read-only tools",
	// "tool delete_incident".
	what string
}

// ruleFor returns the rule for a tool, or false when it is not limited.
func (r Rules) ruleFor(t *mcpkit.ToolInfo) (rule, bool) {
	if l, ok := r.Tool[t.Name]; ok {
		// A resource or prompt limited by name counts in its own bucket
		// ("resource:NAME", "prompt:NAME"), never in a tool's.
		return rule{limit: l, bucket: t.Kind.Noun() + ":" + t.Name, what: t.Label()}, true
	}
	if l, ok := r.Class[t.Policy.Risk]; ok {
		name := className(t.Policy.Risk)
		return rule{limit: l, bucket: "class:" + name, what: strings.ReplaceAll(name, "_", "-") + " tools"}, true
	}
	return rule{}, false
}

// check returns an error naming the first invalid limit.
func (r Rules) check() error {
	if len(r.Class) == 0 && len(r.Tool) == 0 {
		return fmt.Errorf("no limits: give at least one class or tool limit")
	}
	for _, risk := range slices.Sorted(maps.Keys(r.Class)) {
		if !risk.Valid() {
			return fmt.Errorf("risk class %d is not ReadOnly, Write or Destructive", risk)
		}
		if err := r.Class[risk].valid(); err != nil {
			return fmt.Errorf("%s: %w", className(risk), err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Tool)) {
		if name == "" {
			return fmt.Errorf("a tool limit has an empty tool name")
		}
		if err := r.Tool[name].valid(); err != nil {
			return fmt.Errorf("tool:%s: %w", name, err)
		}
	}
	return nil
}

// String is r in spec form, classes then tools in name order.
func (r Rules) String() string {
	var parts []string
	for _, risk := range slices.Sorted(maps.Keys(r.Class)) {
		parts = append(parts, className(risk)+"="+r.Class[risk].String())
	}
	for _, name := range slices.Sorted(maps.Keys(r.Tool)) {
		parts = append(parts, "tool:"+name+"="+r.Tool[name].String())
	}
	return strings.Join(parts, ",")
}

var classes = map[string]mcpkit.Risk{"read_only": mcpkit.ReadOnly, "write": mcpkit.Write, "destructive": mcpkit.Destructive}

func className(r mcpkit.Risk) string {
	switch r {
	case mcpkit.ReadOnly:
		return "read_only"
	case mcpkit.Write:
		return "write"
	case mcpkit.Destructive:
		return "destructive"
	}
	return strconv.Itoa(int(r))
}

// ParseRules reads a spec: comma-separated KEY=LIMIT entries, where KEY is
// a risk class (read_only, write, destructive) or tool:NAME, and LIMIT is
// EVENTS/PERIOD with an optional +BURST. PERIOD is s, m, h or a Go
// duration (10s, 1m30s). Example:
//
//	read_only=20/s,write=5/m,destructive=2/m,tool:delete_incident=1/m
//
// An error names the entry at fault; a key given twice is an error.
func ParseRules(spec string) (Rules, error) {
	r := Rules{Class: map[mcpkit.Risk]Limit{}, Tool: map[string]Limit{}}
	if strings.TrimSpace(spec) == "" {
		return Rules{}, fmt.Errorf("ratelimit: empty rate limit spec; expected e.g. read_only=20/s,write=5/m,destructive=2/m")
	}
	for _, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		key, value, ok := strings.Cut(entry, "=")
		if !ok {
			return Rules{}, fmt.Errorf("ratelimit: entry %q: expected KEY=LIMIT, e.g. write=5/m", entry)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		l, err := parseLimit(value)
		if err != nil {
			return Rules{}, fmt.Errorf("ratelimit: entry %q: %w", entry, err)
		}
		if name, isTool := strings.CutPrefix(key, "tool:"); isTool {
			if name == "" {
				return Rules{}, fmt.Errorf("ratelimit: entry %q: tool: needs a tool name, e.g. tool:delete_incident=1/m", entry)
			}
			if _, dup := r.Tool[name]; dup {
				return Rules{}, fmt.Errorf("ratelimit: entry %q: tool %s is limited twice", entry, name)
			}
			r.Tool[name] = l
			continue
		}
		risk, ok := classes[key]
		if !ok {
			return Rules{}, fmt.Errorf("ratelimit: entry %q: unknown key %q; use read_only, write, destructive or tool:NAME", entry, key)
		}
		if _, dup := r.Class[risk]; dup {
			return Rules{}, fmt.Errorf("ratelimit: entry %q: class %s is limited twice", entry, key)
		}
		r.Class[risk] = l
	}
	return r, nil
}

// parseLimit reads EVENTS/PERIOD[+BURST].
func parseLimit(s string) (Limit, error) {
	rest, burstText, hasBurst := strings.Cut(s, "+")
	eventsText, periodText, ok := strings.Cut(rest, "/")
	if !ok {
		return Limit{}, fmt.Errorf("limit %q: expected EVENTS/PERIOD, e.g. 20/s or 2/m", s)
	}
	events, err := strconv.Atoi(eventsText)
	if err != nil || events <= 0 {
		return Limit{}, fmt.Errorf("limit %q: events %q must be a positive integer", s, eventsText)
	}
	var per time.Duration
	switch periodText {
	case "s":
		per = time.Second
	case "m":
		per = time.Minute
	case "h":
		per = time.Hour
	default:
		per, err = time.ParseDuration(periodText)
		if err != nil || per <= 0 {
			return Limit{}, fmt.Errorf("limit %q: period %q must be s, m, h or a positive duration such as 10s", s, periodText)
		}
	}
	l := Limit{Events: events, Per: per}
	if hasBurst {
		b, err := strconv.Atoi(burstText)
		if err != nil || b <= 0 {
			return Limit{}, fmt.Errorf("limit %q: burst %q must be a positive integer", s, burstText)
		}
		l.Burst = b
	}
	return l, nil
}
