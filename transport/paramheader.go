package transport

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Mcp-Param-* headers mirror the tool arguments a policy marks
// (mcpkit.Policy.Headers, the inputSchema's x-mcp-header) so that proxies
// can route on them without reading the body. A proxy that routes on a
// header the server never compared with the body is the attack: the
// gateway sends tenant A's traffic where the server then acts for tenant
// B. So before anything runs, every Mcp-Param-* header must name a marked
// argument of the called tool, appear once, hold only visible ASCII (or
// the =?base64?...?= form) and equal the body's value; from protocol
// 2026-07-28 a marked argument present in the body must have its header.
// Any failure is 400 with JSON-RPC -32020 (HeaderMismatch), on the record.

// base64Prefix and base64Suffix wrap a header value that is not plain
// ASCII; the markers are case-sensitive.
const (
	base64Prefix = "=?base64?"
	base64Suffix = "?="
)

// maxSafeInteger bounds the integers a header may mirror: those an IEEE
// 754 double holds exactly (2^53-1), as the protocol requires.
const maxSafeInteger = 1<<53 - 1

// checkParamHeaders answers 400/-32020 itself and reports false when the
// request's Mcp-Param-* headers disagree with its body. Values never enter
// the reason or the message: a header mirrors an argument, and what the
// argument holds is the audit record's business, redacted there.
func (h *Handler) checkParamHeaders(w http.ResponseWriter, r *http.Request, caller *mcpkit.Identity, b body) bool {
	if r.Method != http.MethodPost {
		return true
	}
	sent := sentParamHeaders(r.Header)
	modern := speaksStateless(r, b)
	if len(sent) == 0 && (!modern || len(b.calls) == 0) {
		return true
	}
	problem, tool, id := h.paramHeaderProblem(sent, b, modern)
	if problem == "" {
		return true
	}
	h.rejectAs(w, r, Rejection{Status: http.StatusBadRequest, afterBody: true, code: mcp.CodeHeaderMismatch,
		Reason: "Mcp-Param header check: " + problem, Tool: tool, Identity: caller}, "", id, "header mismatch: "+problem)
	return false
}

// sentParamHeaders returns the request's Mcp-Param-* headers by name, as
// net/http canonicalized them, with every value each was sent with.
func sentParamHeaders(hdr http.Header) map[string][]string {
	var out map[string][]string
	for k, v := range hdr {
		if len(k) >= len(mcpkit.ParamHeaderPrefix) && strings.EqualFold(k[:len(mcpkit.ParamHeaderPrefix)], mcpkit.ParamHeaderPrefix) {
			if out == nil {
				out = map[string][]string{}
			}
			out[k] = v
		}
	}
	return out
}

// paramHeaderProblem says what is wrong with the headers against the body,
// "" when nothing is, with the tool and request id to refuse with.
func (h *Handler) paramHeaderProblem(sent map[string][]string, b body, modern bool) (problem, tool string, id *jsonrpc.ID) {
	if b.messages > 1 {
		if len(sent) > 0 {
			return "Mcp-Param-* headers on a batch cannot say which call they mirror; send each tools/call as its own request", "", nil
		}
		for _, c := range b.calls {
			if p := h.callProblem(c, nil, modern); p != "" {
				return p, c.Name(), callID(c)
			}
		}
		return "", "", nil
	}
	if len(b.calls) == 0 {
		return slices.Sorted(maps.Keys(sent))[0] + " on a request that is not tools/call: there is no argument to mirror", "", nil
	}
	c := b.calls[0]
	if p := h.callProblem(c, sent, modern); p != "" {
		return p, c.Name(), callID(c)
	}
	return "", "", nil
}

func callID(c rpcCall) *jsonrpc.ID {
	if !c.ID.IsValid() {
		return nil
	}
	id := c.ID
	return &id
}

// callProblem checks one tools/call against the headers sent with it.
func (h *Handler) callProblem(c rpcCall, sent map[string][]string, modern bool) string {
	var marks []mcpkit.ParamHeader
	if info, ok := h.srv.Tool(c.Name()); ok {
		marks = info.ParamHeaders
	}
	for _, k := range slices.Sorted(maps.Keys(sent)) {
		if !slices.ContainsFunc(marks, func(m mcpkit.ParamHeader) bool { return strings.EqualFold(m.Header(), k) }) {
			return fmt.Sprintf("%s mirrors no argument of tool %q (%s); list the tools again", k, c.Name(), describeMarks(marks))
		}
	}
	if len(marks) == 0 {
		return ""
	}
	args, problem := callArguments(c.Params.Arguments, marks)
	if problem != "" {
		return problem
	}
	for _, m := range marks {
		name := textproto.CanonicalMIMEHeaderKey(m.Header())
		vals := sent[name]
		raw, present := args[m.Argument]
		present = present && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
		switch {
		case len(vals) > 1:
			return fmt.Sprintf("%s sent %d times; send it once", name, len(vals))
		case !present && len(vals) == 1:
			return fmt.Sprintf("%s sent, but the body has no %q argument: omit the header when the argument is absent or null", name, m.Argument)
		case present && len(vals) == 0 && modern:
			return fmt.Sprintf("%s is missing, but the body has the %q argument (marked x-mcp-header); list the tools again and mirror it", name, m.Argument)
		case present && len(vals) == 1:
			if p := compareParam(m, name, vals[0], raw); p != "" {
				return p
			}
		}
	}
	return ""
}

func describeMarks(marks []mcpkit.ParamHeader) string {
	if len(marks) == 0 {
		return "it mirrors none"
	}
	names := make([]string, len(marks))
	for i, m := range marks {
		names[i] = m.Header()
	}
	return "it mirrors " + strings.Join(names, ", ")
}

// callArguments decodes the arguments as the tool's own decode will
// (encoding/json: the last of duplicate keys wins) and refuses a marked
// argument that also appears spelled in another case: a struct decode
// matches names ignoring case, so the header could be compared with one
// key while the handler reads the other.
func callArguments(raw json.RawMessage, marks []mcpkit.ParamHeader) (map[string]json.RawMessage, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, ""
	}
	var args map[string]json.RawMessage
	if err := json.Unmarshal(raw, &args); err != nil {
		return nil, "the tools/call arguments are not a JSON object, so the Mcp-Param-* headers cannot be checked against them"
	}
	for k := range args {
		for _, m := range marks {
			if k != m.Argument && strings.EqualFold(k, m.Argument) {
				return nil, fmt.Sprintf("the body spells the marked argument %q also as %q; send it once, as %q", m.Argument, k, m.Argument)
			}
		}
	}
	return args, ""
}

// compareParam compares a header value with the body's argument: decoded
// from base64 if wrapped, then as the argument's type (integers
// numerically: 42.0 equals 42).
func compareParam(m mcpkit.ParamHeader, name, value string, raw json.RawMessage) string {
	for i := 0; i < len(value); i++ {
		if c := value[i]; c != '\t' && (c < 0x20 || c > 0x7e) {
			return fmt.Sprintf("%s holds a byte outside visible ASCII, space and tab; send such a value as =?base64?...?=", name)
		}
	}
	decoded := value
	if inner, ok := strings.CutPrefix(value, base64Prefix); ok {
		if inner, ok = strings.CutSuffix(inner, base64Suffix); ok {
			b, err := base64.StdEncoding.Strict().DecodeString(inner)
			if err != nil {
				return fmt.Sprintf("%s is not valid padded base64 between =?base64? and ?=", name)
			}
			decoded = string(b)
		}
	}
	mismatch := fmt.Sprintf("%s does not match the body's %q argument", name, m.Argument)
	switch m.Type {
	case "string":
		var s string
		if json.Unmarshal(raw, &s) != nil || s != decoded {
			return mismatch
		}
	case "boolean":
		var v bool
		if json.Unmarshal(raw, &v) != nil || strconv.FormatBool(v) != decoded {
			return mismatch
		}
	case "integer":
		body, ok := safeInteger(string(bytes.TrimSpace(raw)))
		if !ok {
			return fmt.Sprintf("the body's %q argument is not an integer within ±(2^53-1), the range %s can mirror", m.Argument, name)
		}
		header, ok := safeInteger(decoded)
		if !ok || header != body {
			return mismatch
		}
	default:
		return fmt.Sprintf("%s mirrors an argument of type %q, which no header can carry", name, m.Type)
	}
	return ""
}

// safeInteger parses s as an integer within the range a header may
// mirror, in decimal with an optional zero fraction: "42", "-7" and "42.0"
// are integers; "4.2", "+1", "0x2a" and exponents ("4.2e1") are not, so
// that no header makes the server expand an exponent.
func safeInteger(s string) (int64, bool) {
	if whole, frac, ok := strings.Cut(s, "."); ok {
		if frac == "" || strings.Trim(frac, "0") != "" {
			return 0, false
		}
		s = whole
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > 16 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > maxSafeInteger || v < -maxSafeInteger {
		return 0, false
	}
	return v, true
}
