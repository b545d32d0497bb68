package approval

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// A console's requests and decisions pass through its Store, which in a
// fleet is a database table: storage, not an authority. With
// ConsoleConfig.Keys the process that adds a request seals what reviewers
// see and rules read, a console shows and decides only requests whose
// seal holds, and it seals its decision together with the digest of the
// request decided and the reviewer's identity. The process whose call
// waits lets it run only on a decision whose seal holds, that names the
// request it holds in memory, and whose reviewer passes the approver rules
// and four eyes again. A database writer without the keys can delete
// (deny) but not approve or change what a reviewer sees.

// Seal formats: "r1.<kid>.<mac>" on a request, "d1.<kid>.<payload>.<mac>"
// on a decision, base64url. The MAC input starts with a label, so that a
// request seal, a decision seal and an in-client state never stand for one
// another.
const (
	requestSealVersion  = "r1"
	decisionSealVersion = "d1"
	requestSealLabel    = "mcpkit approval request\x00"
	decisionSealLabel   = "mcpkit approval decision\x00"
)

// errSeal says why a seal did not verify; its text is safe to log.
var errSeal = errors.New("approval: seal check failed")

func sealErr(why string) error { return errors.Join(errSeal, errors.New(why)) }

// requestDigest is the hex SHA-256 of r's canonical content: every field
// a reviewer sees or a rule reads, whatever a store did to its JSON (key
// order, spacing, number spelling).
func requestDigest(r Request) (string, error) {
	r.Seal, r.Call = "", nil
	raw, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	canon, err := canonicalJSON(raw)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// canonicalJSON re-encodes raw with sorted keys and no spacing.
func canonicalJSON(raw []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (k *Keyring) mac(secret []byte, label string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// SealRequest returns r sealed with the keyring's signing key (Request.Seal
// set). A Console with Keys seals the requests it adds; call it only to put
// a request into a shared store by other means.
func (k *Keyring) SealRequest(r Request) (Request, error) {
	digest, err := requestDigest(r)
	if err != nil {
		return r, err
	}
	mac := k.mac(k.sign.Secret, requestSealLabel, []byte(digest))
	r.Seal = requestSealVersion + "." + k.sign.ID + "." + base64.RawURLEncoding.EncodeToString(mac)
	return r, nil
}

// verifyRequest checks r's seal under any key of the ring and returns the
// request's digest.
func (k *Keyring) verifyRequest(r Request) (string, error) {
	parts := strings.Split(r.Seal, ".")
	if r.Seal == "" {
		return "", sealErr("the request carries no seal")
	}
	if len(parts) != 3 || parts[0] != requestSealVersion {
		return "", sealErr("the request's seal is malformed")
	}
	secret, ok := k.keys[parts[1]]
	if !ok {
		return "", sealErr("the request is sealed with key " + quoteID(parts[1]) + ", which is not in the keyring")
	}
	got, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", sealErr("the request's seal is malformed")
	}
	digest, err := requestDigest(r)
	if err != nil {
		return "", sealErr("the request cannot be read")
	}
	if !hmac.Equal(got, k.mac(secret, requestSealLabel, []byte(digest))) {
		return "", sealErr("the request was changed after it was sealed")
	}
	return digest, nil
}

// decisionClaims are what a decision seal binds.
type decisionClaims struct {
	Request  string          `json:"r"`
	Digest   string          `json:"d"`
	Verdict  Verdict         `json:"v"`
	Approver string          `json:"a"`
	Reviewer mcpkit.Identity `json:"id"`
	Reason   string          `json:"rs,omitempty"`
	At       int64           `json:"at"`
}

// sealDecision seals d, taken by reviewer on the request with digest.
func (k *Keyring) sealDecision(id, digest string, reviewer mcpkit.Identity, d Decision) (Decision, error) {
	payload, err := json.Marshal(decisionClaims{Request: id, Digest: digest, Verdict: d.Verdict, Approver: d.Approver,
		Reviewer: reviewer, Reason: d.Reason, At: d.At.UnixNano()})
	if err != nil {
		return d, err
	}
	enc := base64.RawURLEncoding.EncodeToString(payload)
	mac := k.mac(k.sign.Secret, decisionSealLabel, []byte(k.sign.ID), []byte{'.'}, []byte(enc))
	d.Seal = decisionSealVersion + "." + k.sign.ID + "." + enc + "." + base64.RawURLEncoding.EncodeToString(mac)
	return d, nil
}

// verifyDecision checks d's seal and that it names the request with id and
// digest, and returns the decision as sealed (the stored plain fields are
// ignored) and the reviewer who took it.
func (k *Keyring) verifyDecision(d Decision, id, digest string) (Decision, mcpkit.Identity, error) {
	if d.Seal == "" {
		return Decision{}, mcpkit.Identity{}, sealErr("the decision carries no seal")
	}
	parts := strings.Split(d.Seal, ".")
	if len(parts) != 4 || parts[0] != decisionSealVersion {
		return Decision{}, mcpkit.Identity{}, sealErr("the decision's seal is malformed")
	}
	secret, ok := k.keys[parts[1]]
	if !ok {
		return Decision{}, mcpkit.Identity{}, sealErr("the decision is sealed with key " + quoteID(parts[1]) + ", which is not in the keyring")
	}
	got, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(got, k.mac(secret, decisionSealLabel, []byte(parts[1]), []byte{'.'}, []byte(parts[2]))) {
		return Decision{}, mcpkit.Identity{}, sealErr("the decision's seal does not verify")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return Decision{}, mcpkit.Identity{}, sealErr("the decision's seal is malformed")
	}
	var c decisionClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Decision{}, mcpkit.Identity{}, sealErr("the decision's seal is malformed")
	}
	if c.Request != id || !hmac.Equal([]byte(c.Digest), []byte(digest)) {
		return Decision{}, mcpkit.Identity{}, sealErr("the decision was taken on another request, or on a changed version of this one")
	}
	return Decision{Verdict: c.Verdict, Approver: c.Approver, Reason: c.Reason, At: time.Unix(0, c.At), Seal: d.Seal}, c.Reviewer, nil
}

// quoteID quotes a key id for a message, bounded.
func quoteID(id string) string {
	if len(id) > 32 {
		id = id[:32] + "..."
	}
	b, _ := json.Marshal(id)
	return string(b)
}

// unsealed verifies p's seal when the console has keys and returns p's
// digest ("" without keys).
func (c *Console) unsealed(p Request) (string, error) {
	if c.opts.Keys == nil {
		return "", nil
	}
	return c.opts.Keys.verifyRequest(p)
}

// seal seals the console's decision d when it has keys.
func (c *Console) seal(id, digest string, who mcpkit.Identity, d Decision) (Decision, error) {
	if c.opts.Keys == nil {
		return d, nil
	}
	return c.opts.Keys.sealDecision(id, digest, who, d)
}

// tampered logs and reports a request whose seal failed.
func (c *Console) tampered(r *http.Request, who mcpkit.Identity, action string, p Request, why error) {
	c.logger.Error("approval: a pending request failed its seal check; it is not shown or decided", "id", p.ID, "tool", p.Tool, "reviewer", who.Subject, "error", why)
	_ = c.report(r.Context(), Review{Outcome: ReviewTampered, Reviewer: who, Action: action, Status: http.StatusConflict,
		RequestID: p.ID, Request: &p, Error: "the request failed its integrity check: " + sealReason(why)})
}

// verified is the decision the waiting call gets for d: with keys, d only
// if its seal verifies, it names pending (the request this process
// holds), and its reviewer passes the approver rules and four eyes again;
// otherwise a denial saying so.
func (c *Console) verified(pending Request, d Decision) Decision {
	if c.opts.Keys == nil {
		return d
	}
	refuse := func(why string) Decision {
		c.logger.Error("approval: a decision failed verification; the call is refused", "id", pending.ID, "tool", pending.Tool, "error", why)
		return Decision{Verdict: VerdictDenied, Approver: "system", At: time.Now(),
			Reason: "the decision failed verification (" + why + "); the call was refused"}
	}
	digest, err := c.opts.Keys.verifyRequest(pending)
	if err != nil {
		return refuse(sealReason(err))
	}
	sd, who, err := c.opts.Keys.verifyDecision(d, pending.ID, digest)
	if err != nil {
		return refuse(sealReason(err))
	}
	if sd.Verdict != VerdictApproved {
		return sd
	}
	if who.Subject == "" || sd.Approver != who.Subject {
		return refuse("the approval names no reviewer")
	}
	if miss := c.rules.console(who); len(miss) > 0 {
		return refuse("the approver " + who.Subject + " does not meet the console's approver rule")
	}
	if miss := c.rules.request(who, &pending); len(miss) > 0 {
		return refuse("the approver " + who.Subject + " may not decide requests to " + pending.Tool)
	}
	if !c.opts.AllowSelfApproval && pending.Principal.Subject != "" && sameSubject(pending.Principal.Subject, who.Subject) {
		return refuse("the caller cannot approve their own call (four eyes)")
	}
	return sd
}

// sealReason is err's text without the errSeal prefix.
func sealReason(err error) string {
	if errors.Is(err, errSeal) {
		msg := err.Error()
		if _, rest, ok := strings.Cut(msg, "\n"); ok {
			return rest
		}
		return msg
	}
	return err.Error()
}
