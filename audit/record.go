package audit

import (
	"encoding/json"
	"fmt"
	"time"
)

// Record is one audit record. The JSON field names are fixed: dashboards,
// alerts and the verifier depend on them.
//
// Every tools/call produces exactly one final record (Phase empty). Calls
// to write and destructive tools also produce, before the handler runs, a
// start record with Phase "start" and the same ID, so that a call that
// crashes the process still left a trace.
type Record struct {
	// ID identifies the call; the start and final records share it.
	ID string `json:"id"`
	// Time is when the server began serving the call.
	Time Time `json:"time"`
	// Phase is "start" on a write-ahead record and empty on the final one.
	Phase           string     `json:"phase,omitempty"`
	Server          ServerInfo `json:"server"`
	Principal       Principal  `json:"principal"`
	SessionID       string     `json:"session_id,omitempty"`
	ProtocolVersion string     `json:"protocol_version,omitempty"`
	// RequestID is the JSON-RPC request id, supplied by mcpkit's stdio and
	// HTTP transports (mcpkit.Call.RequestID).
	RequestID string `json:"request_id,omitempty"`
	// Tool is the tool a tools/call named; empty on the record of any
	// other operation (a resource read, a prompt get), which Operation and
	// Target describe.
	Tool string `json:"tool"`
	// Operation is the MCP method the record is about: tools/call,
	// resources/read, prompts/get, resources/subscribe,
	// resources/unsubscribe, subscriptions/listen or completion/complete.
	// Absent on records written before it existed, which are all
	// tools/call.
	Operation string `json:"operation,omitempty"`
	// Target is what the operation named: the tool's or prompt's name, or
	// the resource URI read. A target the server does not know is the
	// client's string, redacted.
	Target string `json:"target,omitempty"`
	// Source is where a refused request came from (an IP address, an IPv6
	// /64, or "other"); set on transport refusals without an identity.
	Source string `json:"source,omitempty"`
	// Refusals is set on a summary record standing for refusals counted
	// rather than recorded one by one.
	Refusals *RefusalSummary `json:"refusals,omitempty"`
	// Risk is read_only, write or destructive; empty for an unknown tool.
	Risk string `json:"risk,omitempty"`
	// Arguments are the call's arguments after redaction.
	Arguments json.RawMessage `json:"arguments,omitempty"`
	// Outcome is one of ok, tool_error, invalid_input, denied_flag,
	// denied_scope, denied_approval, unavailable, panic, unknown_tool;
	// empty on a start record. Transport refusals and approval console
	// events have their own (refusal.go, review.go).
	Outcome string `json:"outcome,omitempty"`
	// Error is the internal cause of a failure, redacted.
	Error string `json:"error,omitempty"`
	// Result is what the client received, redacted and size-limited.
	Result   json.RawMessage `json:"result,omitempty"`
	Approval *Approval       `json:"approval,omitempty"`
	// Review is set on the record of an approval console event
	// (Auditor.Reviewed); its principal is the reviewer.
	Review     *Review `json:"review,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	TraceID    string  `json:"trace_id,omitempty"`
	SpanID     string  `json:"span_id,omitempty"`

	// Kind is empty on a call's record; the file sink's own lines have
	// kind "genesis" or "checkpoint" (KindGenesis, KindCheckpoint): skip
	// them when reading calls from a file.
	Kind string `json:"kind,omitempty"`

	// Instance names the replica whose file sink wrote the record
	// (WithInstance); the file sink sets it, sealed with the record, and
	// fills it in here once committed, like Seq.
	Instance string `json:"instance,omitempty"`

	// Seq, PrevHash, Kid and Hash place the record in a file sink's chain:
	// Hash is the HMAC-SHA-256 under the key Kid. A file sink fills them
	// in once the record is committed, so sinks after it in a Fanout
	// carry the chain position too.
	Seq      uint64 `json:"seq,omitempty"`
	PrevHash string `json:"prev_hash,omitempty"`
	Kid      string `json:"kid,omitempty"`
	Hash     string `json:"hash,omitempty"`

	// redacted marks Arguments and Result as the redactor wrote them, so
	// that AppendJSON copies them without checking them again.
	redacted redactedBytes
}

// PhaseStart marks a write-ahead record.
const PhaseStart = "start"

// ServerInfo names the server that answered.
type ServerInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Principal is who called.
type Principal struct {
	Subject string   `json:"subject,omitempty"`
	Email   string   `json:"email,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	// Client is the MCP client software, "name/version".
	Client string `json:"client,omitempty"`
	// Auth is how the subject was established (jwt, static, local, none).
	Auth string `json:"auth,omitempty"`
}

// Approval is the human decision on a call that needed one.
type Approval struct {
	Approver  string  `json:"approver,omitempty"`
	Decision  string  `json:"decision"`
	Reason    string  `json:"reason,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
}

// Time is a UTC timestamp rendered as RFC 3339 with nanoseconds, always
// nine digits, so that records sort as text and compare byte for byte.
type Time struct{ time.Time }

const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// MarshalJSON renders t in UTC with nanoseconds.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(timeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, timeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON parses an RFC 3339 timestamp.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("audit: time: %w", err)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("audit: time: %w", err)
	}
	t.Time = v
	return nil
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
