package audit

import "github.com/mcpkit-go/mcpkit/mcpkit"

// principalOf is the record's principal for id: the client name and
// version are the client's own words, so they are masked and cut like
// every client-supplied identifier. Every record with a principal (call,
// refusal, review) builds it here, so none can carry the client in clear.
func principalOf(red *Redactor, id mcpkit.Identity) Principal {
	return Principal{Subject: id.Subject, Email: id.Email, Groups: id.Groups, Client: red.Identifier(clientString(id)), Auth: id.AuthMethod}
}
