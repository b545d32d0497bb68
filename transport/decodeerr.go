package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// MaxRequestID is the longest JSON-RPC id (string form) the transports
// accept, in bytes. The id is copied into the audit record and the trace of
// the request; a longer one is refused before the server sees it.
const MaxRequestID = 128

// describeDecodeError says where and what kind of decode error err is,
// without any of the client's bytes: decoder errors quote the input (a
// version tag, a value), and a body may hold a secret the client meant for
// somewhere else. The result is safe to log and to record.
func describeDecodeError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errTooDeep):
		return errTooDeep.Error()
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if f := te.Field; f != "" && safeFieldPath(f) {
			return f + " must be " + kindOf(te.Type)
		}
		return fmt.Sprintf("a value of the wrong type at byte %d", te.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected end of JSON"
	}
	return "not a valid JSON-RPC message"
}

// safeFieldPath reports whether a decoder field path is short and made of
// identifier characters only (a map key in it would be the client's).
func safeFieldPath(f string) bool {
	if len(f) > 64 {
		return false
	}
	for _, c := range f {
		if !(c == '.' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func kindOf(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // json.RawMessage: any value
			return "a JSON value"
		}
		return "an array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "of another type"
}

// idLen is the length of a JSON-RPC id in the form it is recorded.
func idLen(id jsonrpc.ID) int {
	if s, ok := id.Raw().(string); ok {
		return len(s)
	}
	return 0 // numbers are at most 20 digits
}

// messageID is the id of a request or response (invalid for a
// notification).
func messageID(m jsonrpc.Message) jsonrpc.ID {
	switch x := m.(type) {
	case *jsonrpc.Request:
		return x.ID
	case *jsonrpc.Response:
		return x.ID
	}
	return jsonrpc.ID{}
}

// longID returns the length of the first id in in longer than
// MaxRequestID, or 0.
func (in inbound) longID() int {
	for _, m := range in.msgs {
		if n := idLen(messageID(m)); n > MaxRequestID {
			return n
		}
	}
	return 0
}

// longIDMessage is what a client sending an oversized id is told.
func longIDMessage(n int) string {
	return fmt.Sprintf("the JSON-RPC id is %d bytes; at most %d are accepted", n, MaxRequestID)
}
