package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// AppendJSON appends r encoded as json.Marshal encodes it (same members,
// same order, same escaping of its own strings) and returns the result,
// with one difference: the bidirectional control characters (U+202A to
// U+202E, U+2066 to U+2069) are written as \u escapes wherever they
// occur, so a terminal showing the log shows them instead of reordering
// the text around them. The line decodes to the same record. A field
// added to Record must be added here too: the test that fills every field
// by reflection fails until it is. Arguments and Result that the
// auditor's redactor produced are known to be compact, valid JSON and are
// copied as they are, so a large result is touched once; any other raw
// member is checked and compacted as json.Marshal would.
func (r *Record) AppendJSON(dst []byte) ([]byte, error) {
	start := len(dst)
	dst, err := r.appendJSON(dst)
	if err != nil {
		return nil, err
	}
	return escapeBidi(dst, start), nil
}

// escapeBidi rewrites the bidirectional controls in b[start:] (valid JSON:
// they can only be inside strings) as \u escapes. Their UTF-8 encodings
// all begin with 0xE2 0x80 or 0xE2 0x81; a record without 0xE2 costs one
// vectorized search.
func escapeBidi(b []byte, start int) []byte {
	i := bytes.IndexByte(b[start:], 0xE2)
	if i < 0 {
		return b
	}
	var out []byte
	last := start
	for i += start; i+2 < len(b); {
		if r := bidiAt(b[i:]); r != 0 {
			if out == nil {
				out = make([]byte, 0, len(b)+16)
				out = append(out, b[:start]...)
			}
			out = append(out, b[last:i]...)
			out = append(out, `\u`...)
			out = strconv.AppendUint(out, uint64(r), 16)
			i += 3
			last = i
			continue
		}
		k := bytes.IndexByte(b[i+1:], 0xE2)
		if k < 0 {
			break
		}
		i += 1 + k
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// bidiAt returns the bidirectional control encoded at the start of b, or 0.
func bidiAt(b []byte) rune {
	if len(b) < 3 || b[0] != 0xE2 {
		return 0
	}
	switch {
	case b[1] == 0x80 && b[2] >= 0xAA && b[2] <= 0xAE: // U+202A..U+202E
		return 0x2000 | rune(b[2]-0x80)
	case b[1] == 0x81 && b[2] >= 0xA6 && b[2] <= 0xA9: // U+2066..U+2069
		return 0x2040 | rune(b[2]-0x80)
	}
	return 0
}

func (r *Record) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, r.ID)
	dst = append(dst, `,"time":"`...)
	dst = r.Time.UTC().AppendFormat(dst, timeLayout)
	dst = append(dst, '"')
	dst = appendStringMember(dst, "phase", r.Phase)
	dst = append(dst, `,"server":{"name":`...)
	dst = appendJSONString(dst, r.Server.Name)
	dst = append(dst, `,"version":`...)
	dst = appendJSONString(dst, r.Server.Version)
	dst = append(dst, `},"principal":{`...)
	n := len(dst)
	p := &r.Principal
	dst = appendStringMember(dst, "subject", p.Subject)
	dst = appendStringMember(dst, "email", p.Email)
	if len(p.Groups) > 0 {
		dst = append(dst, `,"groups":[`...)
		for i, g := range p.Groups {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, g)
		}
		dst = append(dst, ']')
	}
	dst = appendStringMember(dst, "client", p.Client)
	dst = appendStringMember(dst, "auth", p.Auth)
	if len(dst) > n {
		dst = append(dst[:n], dst[n+1:]...) // the first member has no comma
	}
	dst = append(dst, '}')
	dst = appendStringMember(dst, "session_id", r.SessionID)
	dst = appendStringMember(dst, "protocol_version", r.ProtocolVersion)
	dst = appendStringMember(dst, "request_id", r.RequestID)
	dst = append(dst, `,"tool":`...)
	dst = appendJSONString(dst, r.Tool)
	dst = appendStringMember(dst, "operation", r.Operation)
	dst = appendStringMember(dst, "target", r.Target)
	dst = appendStringMember(dst, "source", r.Source)
	if s := r.Refusals; s != nil {
		dst = append(dst, `,"refusals":{"count":`...)
		dst = strconv.AppendInt(dst, int64(s.Count), 10)
		dst = append(dst, `,"first":"`...)
		dst = s.First.UTC().AppendFormat(dst, timeLayout)
		dst = append(dst, `","last":"`...)
		dst = s.Last.UTC().AppendFormat(dst, timeLayout)
		dst = append(dst, `"}`...)
	}
	dst = appendStringMember(dst, "risk", r.Risk)
	var err error
	if dst, err = r.appendRaw(dst, "arguments", r.Arguments); err != nil {
		return nil, err
	}
	dst = appendStringMember(dst, "outcome", r.Outcome)
	dst = appendStringMember(dst, "error", r.Error)
	if dst, err = r.appendRaw(dst, "result", r.Result); err != nil {
		return nil, err
	}
	if a := r.Approval; a != nil {
		dst = append(dst, `,"approval":{`...)
		n := len(dst)
		dst = appendStringMember(dst, "approver", a.Approver)
		dst = append(dst, `,"decision":`...)
		dst = appendJSONString(dst, a.Decision)
		dst = appendStringMember(dst, "reason", a.Reason)
		dst = append(dst, `,"latency_ms":`...)
		dst = appendFloat(dst, a.LatencyMS)
		dst = append(dst[:n], dst[n+1:]...)
		dst = append(dst, '}')
	}
	if v := r.Review; v != nil {
		dst = append(dst, `,"review":{"action":`...)
		dst = appendJSONString(dst, v.Action)
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(v.Status), 10)
		dst = appendStringMember(dst, "request_id", v.RequestID)
		dst = appendStringMember(dst, "caller", v.Caller)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"duration_ms":`...)
	dst = appendFloat(dst, r.DurationMS)
	dst = appendStringMember(dst, "trace_id", r.TraceID)
	dst = appendStringMember(dst, "span_id", r.SpanID)
	dst = appendStringMember(dst, "kind", r.Kind)
	dst = appendStringMember(dst, "instance", r.Instance)
	if r.Seq != 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, r.Seq, 10)
	}
	dst = appendStringMember(dst, "prev_hash", r.PrevHash)
	dst = appendStringMember(dst, "kid", r.Kid)
	dst = appendStringMember(dst, "hash", r.Hash)
	return append(dst, '}'), nil
}

func appendStringMember(dst []byte, name, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendJSONString(dst, v)
}

// appendRaw writes a raw member: as it is when the redactor produced it
// (r.redacted marks those bytes), else through json.Marshal, which checks
// and compacts it.
func (r *Record) appendRaw(dst []byte, name string, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		return dst, nil
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	if r.redacted.holds(raw) {
		return append(dst, raw...), nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// redactedBytes remembers which byte slices a Redactor wrote (and so are
// compact, valid JSON) without keeping a second copy: a record whose
// Arguments or Result were replaced afterwards no longer matches.
type redactedBytes [2]struct {
	p *byte
	n int
}

func (m *redactedBytes) mark(b json.RawMessage) {
	if len(b) == 0 {
		return
	}
	for i := range m {
		if m[i].p == nil {
			m[i].p, m[i].n = &b[0], len(b)
			return
		}
	}
}

func (m *redactedBytes) holds(b json.RawMessage) bool {
	if len(b) == 0 {
		return false
	}
	for i := range m {
		if m[i].p == &b[0] && m[i].n == len(b) {
			return true
		}
	}
	return false
}

// appendFloat writes f as encoding/json does.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, '0')
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		b, _ := json.Marshal(f)
		return append(dst, b...)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// appendJSONString appends s as a JSON string, as encoding/json writes
// it (HTML characters escaped, invalid UTF-8 replaced).
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
