package wire

import (
	"bytes"
	"errors"

	sjson "github.com/segmentio/encoding/json"
)

// decoderFirstRead is how much the JSON library's Decoder reads before it
// first parses: a 32 KiB buffer, allocated (and zeroed) on every decode.
const decoderFirstRead = 32 << 10

// decodeFlags are the SDK's: struct fields matched case-sensitively.
const decodeFlags = sjson.DontMatchCaseInsensitiveStructFields

// DecodeValue decodes the first JSON value of data into v exactly as the
// go-sdk's own decoding does (a segmentio Decoder over the bytes, struct
// fields matched case-sensitively; the caller bounds the nesting), with
// the same result and the same errors, without the Decoder's 32 KiB
// buffer: data that fits in the Decoder's first read is parsed where it
// lies. Longer data goes through the Decoder itself, which parses what it
// has read in chunks.
func DecodeValue(data []byte, v any) error {
	if len(data) > decoderFirstRead {
		return sdkDecoder(data, v)
	}
	// With no target Parse only finds the first value's end, and
	// reports it with an InvalidUnmarshalError.
	rest, err := sjson.Parse(data, nil, decodeFlags)
	var done *sjson.InvalidUnmarshalError
	if !errors.As(err, &done) {
		if len(rest) != 0 {
			return err // a syntax error inside the data, as the Decoder reports it
		}
		// Cut short, or an error at trailing whitespace (Parse skips it
		// and cannot tell): the Decoder words these its own way.
		return sdkDecoder(data, v)
	}
	// The value alone, as the Decoder hands it on: an error names it.
	value := bytes.TrimRight(data[:len(data)-len(rest)], spaces)
	value = value[len(value)-len(bytes.TrimLeft(value, spaces)):]
	_, err = sjson.Parse(value, v, decodeFlags)
	return err
}

// sdkDecoder is the SDK's decoding itself.
func sdkDecoder(data []byte, v any) error {
	dec := sjson.NewDecoder(bytes.NewReader(data))
	dec.DontMatchCaseInsensitiveStructFields()
	return dec.Decode(v)
}

// spaces are JSON's whitespace.
const spaces = " \t\r\n"

// MaxDepth is the SDK's nesting bound for the JSON it decodes.
const MaxDepth = 1000

// DepthExceeds reports whether brackets outside strings nest deeper than
// max anywhere in data, as the SDK checks before it decodes.
func DepthExceeds(data []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, b := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
			continue
		}
		switch b {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > max {
				return true
			}
		case '}', ']':
			if depth > 0 { // stray closers do not buy depth
				depth--
			}
		}
	}
	return false
}
