package audit

// maxIdentifier is the longest client-supplied identifier (client
// name/version, JSON-RPC id, session id) a record keeps whole, in bytes.
// Identifiers are labels, not payloads: a longer one is cut by the
// Redactor's truncation (prefix plus length and digest), so a client cannot
// make every record of its session as large as the name it announced.
const maxIdentifier = 256

// Identifier masks credential shapes in a client-supplied identifier and
// truncates it, with its length and digest, when it is longer than 256
// bytes (or the Redactor's WithMaxString, if smaller).
func (r *Redactor) Identifier(s string) string {
	s = r.String(s)
	if len(s) > maxIdentifier {
		s = r.truncate(s)
	}
	return s
}
