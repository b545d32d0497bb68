package audit_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mcpkit-go/mcpkit/audit"
)

// sealedChain writes records through a real FileSink, keyed with
// testKeys and witnessed, and returns the file and the witness's
// checkpoints: the genuine log the fuzz target alters. The records are
// fixed, so the records are the same on every run (ids and times of the
// sink's own lines vary).
func sealedChain(tb testing.TB) ([]byte, []audit.Checkpoint) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "audit.jsonl")
	var mu sync.Mutex
	var cps []audit.Checkpoint
	s, err := openFile(path, audit.WithWitness(audit.WitnessFunc(func(_ context.Context, c audit.Checkpoint) error {
		mu.Lock()
		cps = append(cps, c)
		mu.Unlock()
		return nil
	})))
	if err != nil {
		tb.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	records := []*audit.Record{
		{ID: "c1", Time: audit.Time{Time: at}, Phase: audit.PhaseStart, Server: audit.ServerInfo{Name: "s", Version: "1"},
			Principal: audit.Principal{Subject: "alice", Groups: []string{"ops"}}, Tool: "delete_db", Risk: "destructive",
			Arguments: json.RawMessage(`{"db":"prod","note":"caf\u00e9 \"quoted\""}`)},
		{ID: "c1", Time: audit.Time{Time: at}, Server: audit.ServerInfo{Name: "s", Version: "1"},
			Principal: audit.Principal{Subject: "alice"}, Tool: "delete_db", Risk: "destructive", Outcome: "denied_approval",
			Approval: &audit.Approval{Decision: "denied", Approver: "bob", Reason: "not today"}, DurationMS: 12.5},
		{ID: "c2", Time: audit.Time{Time: at.Add(time.Second)}, Server: audit.ServerInfo{Name: "s", Version: "1"},
			Tool: "get_thing", Risk: "read_only", Outcome: "ok", Result: json.RawMessage(`{"content":[{"type":"text","text":"ünïcödé"}]}`)},
		{ID: "c3", Time: audit.Time{Time: at.Add(2 * time.Second)}, Server: audit.ServerInfo{Name: "s", Version: "1"},
			Tool: "nope", Outcome: "unknown_tool", Error: `unknown tool "nope"`},
	}
	for _, r := range records {
		if err := s.Write(context.Background(), r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return b, cps
}

// verifyBytes writes data to the file at path, replacing it, and verifies
// it, with the witness's checkpoints cps if any. A fuzz worker runs one
// input at a time, so one file serves them all.
func verifyBytes(t *testing.T, path string, data []byte, cps []audit.Checkpoint) (audit.VerifyResult, error) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := audit.VerifyWith(audit.VerifyConfig{Keys: testKeys, Checkpoints: cps}, path)
	if err != nil {
		var ve *audit.VerifyError
		if !errors.As(err, &ve) || ve.Line < 1 || ve.Reason == "" || ve.File != path || ve.Kind == "" {
			t.Fatalf("verify of %q failed without locating the break: %v", data, err)
		}
	}
	return res, err
}

// summary is what a verification says of an intact log.
type summary struct {
	Records           int
	FirstSeq, LastSeq uint64
	LastHash          string
}

func summarize(r audit.VerifyResult) summary {
	return summary{Records: r.Records, FirstSeq: r.FirstSeq, LastSeq: r.LastSeq, LastHash: r.LastHash}
}

// chainOracle checks, independently of the verifier, that data is an
// intact single-file log as the package documents it: newline-terminated
// lines, each a JSON object ending in its "hash" member, whose hash is the
// HMAC-SHA-256 under key "k1" of the object without that member followed
// by its prev_hash; the first line a genesis line (seq 1, GenesisHash,
// file 1, a log id), no other genesis line, checkpoint lines of the same
// log, seqs consecutive and each prev_hash the hash before it. It returns
// what Verify should report.
func chainOracle(data []byte) (summary, error) {
	var res summary
	if len(data) == 0 {
		return res, errors.New("empty")
	}
	if data[len(data)-1] != '\n' {
		return res, errors.New("no final newline")
	}
	var logID string
	for i, line := range bytes.Split(data[:len(data)-1], []byte("\n")) {
		if !json.Valid(line) {
			return res, errors.New("a line is not JSON")
		}
		var r struct {
			Seq      uint64 `json:"seq"`
			PrevHash string `json:"prev_hash"`
			Kid      string `json:"kid"`
			Hash     string `json:"hash"`
			Kind     string `json:"kind"`
			Log      string `json:"log"`
			Instance string `json:"instance"`
			File     int    `json:"file"`
			Time     string `json:"time"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return res, err
		}
		member := `,"hash":"` + r.Hash + `"}`
		if len(r.Hash) != 64 || !bytes.HasSuffix(line, []byte(member)) || strings.ToLower(r.Hash) != r.Hash {
			return res, errors.New("the hash member is not last")
		}
		canonical := append(bytes.Clone(line[:len(line)-len(member)]), '}')
		mac := hmac.New(sha256.New, testSecret)
		mac.Write(canonical)
		mac.Write([]byte(r.PrevHash))
		switch {
		case r.Seq == 0:
			return res, errors.New("no seq")
		case r.Kid != "k1":
			return res, errors.New("not keyed with k1")
		case hex.EncodeToString(mac.Sum(nil)) != string(line[len(line)-len(member)+len(`,"hash":"`):len(line)-2]):
			return res, errors.New("MAC mismatch")
		case i == 0 && (r.Kind != audit.KindGenesis || r.Seq != 1 || r.PrevHash != audit.GenesisHash || r.File != 1 || r.Log == ""):
			return res, errors.New("no genesis line at the head")
		case i > 0 && r.Kind == audit.KindGenesis:
			return res, errors.New("genesis in the middle")
		case i > 0 && (r.Seq != res.LastSeq+1 || r.PrevHash != res.LastHash):
			return res, errors.New("broken link")
		case i > 0 && r.Kind == audit.KindCheckpoint && r.Log != logID:
			return res, errors.New("checkpoint of another log")
		}
		if i == 0 {
			res.FirstSeq, logID = r.Seq, r.Log
		}
		res.Records++
		res.LastSeq = r.Seq
		res.LastHash = string(line[len(line)-len(member)+len(`,"hash":"`) : len(line)-2])
	}
	return res, nil
}

// fuzzHang is how long one input may take before it counts as a hang.
const fuzzHang = 10 * time.Second

// Alterations of the genuine chain, chosen by the fuzzer's op byte.
const (
	opReplace = iota
	opInsert
	opDelete
	opTruncate
	opDropLine
	numOps
)

// FuzzVerify feeds arbitrary bytes as an audit file to Verify, and alters a
// log written by the real FileSink at a fuzzer-chosen place. Verify must
// never panic, must locate every failure, and accepts a file only if it is
// an intact log by an independent reading of the format. Of the genuine
// log, any changed, inserted or deleted byte is detected, and so is
// dropping any line but the last (dropping the first is head truncation);
// cutting it at a record boundary (or dropping its last line) verifies on
// its own but shows in LastSeq, and fails as tail truncation when the
// witness's checkpoints are given.
func FuzzVerify(f *testing.F) {
	genuine, cps := sealedChain(f)
	lines := bytes.SplitAfter(genuine, []byte("\n"))
	lines = lines[:len(lines)-1]
	f.Add(genuine, uint8(opReplace), uint16(0), byte('{'))
	f.Add(lines[1], uint8(opReplace), uint16(40), byte('x'))
	f.Add(bytes.Join(lines[1:], nil), uint8(opInsert), uint16(len(genuine)), byte('\n'))
	f.Add(bytes.TrimSuffix(genuine, []byte("\n")), uint8(opDelete), uint16(len(genuine)-1), byte(0))
	f.Add([]byte(nil), uint8(opTruncate), uint16(len(lines[0])), byte(0))
	f.Add([]byte("\n"), uint8(opDropLine), uint16(0), byte(0))
	f.Add([]byte(`{"seq":1,"prev_hash":"`+audit.GenesisHash+`","hash":"`+audit.GenesisHash+`"}`+"\n"), uint8(opDropLine), uint16(2), byte(0))
	f.Add(lines[0], uint8(opDropLine), uint16(len(lines)-1), byte(0))

	want, err := audit.VerifyWith(audit.VerifyConfig{Keys: testKeys, Checkpoints: cps}, writeTemp(f, genuine))
	if err != nil || want.Records != len(lines) || want.FirstSeq != 1 || want.Checkpoints != len(cps) || len(cps) < 2 {
		f.Fatalf("the genuine log does not verify: %+v %v", want, err)
	}
	if o, err := chainOracle(genuine); err != nil || o != summarize(want) {
		f.Fatalf("the oracle reads the genuine log as %+v, %v", o, err)
	}
	path := filepath.Join(f.TempDir(), "audit.jsonl")
	f.Fuzz(func(t *testing.T, data []byte, op uint8, pos uint16, val byte) {
		watchdog := time.AfterFunc(fuzzHang, func() { panic(fmt.Sprintf("verifying %q took over %v", data, fuzzHang)) })
		defer watchdog.Stop()
		// Arbitrary bytes: accepted only if the oracle accepts them, with
		// the same summary.
		res, err := verifyBytes(t, path, data, nil)
		oracle, oerr := chainOracle(data)
		if err == nil && (oerr != nil || summarize(res) != oracle) {
			t.Fatalf("Verify accepted %q as %+v; an independent reading says %+v, %v", data, res, oracle, oerr)
		}
		if err != nil && oerr == nil {
			t.Fatalf("Verify refused %q (%v), an independent reading accepts it as %+v", data, err, oracle)
		}

		// The genuine log, altered.
		n := len(genuine)
		mutated := bytes.Clone(genuine)
		switch op % numOps {
		case opReplace:
			i := int(pos) % n
			mutated[i] = val
			res, err := verifyBytes(t, path, mutated, nil)
			if val != genuine[i] && err == nil {
				t.Fatalf("byte %d changed from %q to %q, and the log still verifies: %+v", i, genuine[i], val, res)
			}
			if val == genuine[i] && (err != nil || summarize(res) != summarize(want)) {
				t.Fatalf("unchanged log: %+v %v", res, err)
			}
		case opInsert:
			i := int(pos) % (n + 1)
			mutated = append(mutated[:i], append([]byte{val}, genuine[i:]...)...)
			if res, err := verifyBytes(t, path, mutated, nil); err == nil {
				t.Fatalf("%q inserted at %d, and the log still verifies: %+v", val, i, res)
			}
		case opDelete:
			i := int(pos) % n
			mutated = append(mutated[:i], genuine[i+1:]...)
			if res, err := verifyBytes(t, path, mutated, nil); err == nil {
				t.Fatalf("byte %d (%q) deleted, and the log still verifies: %+v", i, genuine[i], res)
			}
		case opTruncate:
			k := int(pos) % (n + 1)
			res, err := verifyBytes(t, path, genuine[:k], nil)
			kept := bytes.Count(genuine[:k], []byte("\n"))
			switch {
			case k == 0 || genuine[k-1] != '\n':
				if err == nil {
					t.Fatalf("cut at %d (empty or mid-record), and the log still verifies: %+v", k, res)
				}
			case err != nil:
				t.Fatalf("cut at a record boundary (%d records) does not verify: %v", kept, err)
			case res.Records != kept || res.LastSeq != uint64(kept):
				t.Fatalf("cut to %d records, Verify reports %+v", kept, res)
			case k < n && (res.LastSeq >= want.LastSeq || res.LastHash == want.LastHash):
				t.Fatalf("cut to %d records is indistinguishable from the whole log by LastSeq/LastHash: %+v", kept, res)
			}
			if k > 0 && k < n && genuine[k-1] == '\n' {
				_, err := verifyBytes(t, path, genuine[:k], cps)
				var ve *audit.VerifyError
				if !errors.As(err, &ve) || ve.Kind != audit.ProblemTailTruncated || ve.From != uint64(kept+1) || ve.To != want.LastSeq {
					t.Fatalf("cut to %d records, the witness's checkpoints should show records %d..%d cut: %v", kept, kept+1, want.LastSeq, err)
				}
			}
		case opDropLine:
			i := int(pos) % len(lines)
			var b []byte
			for j, l := range lines {
				if j != i {
					b = append(b, l...)
				}
			}
			res, err := verifyBytes(t, path, b, nil)
			var ve *audit.VerifyError
			switch {
			case i == 0 && (!errors.As(err, &ve) || ve.Kind != audit.ProblemHeadTruncated || ve.Line != 1):
				t.Fatalf("without its genesis line the log should fail as head truncated at line 1: %+v %v", res, err)
			case i == len(lines)-1 && (err != nil || res.LastSeq != want.LastSeq-1 || res.LastHash == want.LastHash):
				t.Fatalf("without its last record the log should verify to seq %d: %+v %v", want.LastSeq-1, res, err)
			case i > 0 && i < len(lines)-1 && err == nil:
				t.Fatalf("record %d dropped, and the log still verifies: %+v", i+1, res)
			}
		}
	})
}

func writeTemp(tb testing.TB, data []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "audit.jsonl")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Credentials the redactor fuzz target plants next to the fuzzer's input.
const (
	plantedToken    = "ghp_FuzzPlanted0123456789abcdefXYZ"
	plantedPassword = "hunter2-fuzz-planted"
	plantedPath     = "pathPlanted-fuzz-value"
)

// FuzzRedactor feeds arbitrary text and JSON to the default Redactor. It
// must not panic, must be deterministic, must keep valid UTF-8 valid and
// always produce valid JSON from Redactor.JSON; and a GitHub token placed
// before or after the input, a value under a secret key and a value at a
// redacted path never come out, whatever the input around them.
func FuzzRedactor(f *testing.F) {
	for _, seed := range []string{
		``, ` `, `null`, `{}`, `[]`, `"x"`, `1e400`, `{"a":1} {}`, `{"a":`, "\xff\xfe",
		`{"token":"t","items":[{"password":"p"}],"n":1.50}`,
		`{"text":"Authorization: Bearer abc.def.ghi and password=swordfish"}`,
		`postgres://admin:pw@db/x`, `-----BEGIN PRIVATE KEY-----`, `token: "unterminated`,
		`basic`, `bearer`, `eyJ`, strings.Repeat("é", 1100), `{"a":{"b":"c"}}`,
		`{"note":"{\"Password\": \"x\"}","q":"?access_token=abc&x=1"}`, `DB_PASSWORD=pw`, `dXNlcjpwYXNzd29yZA==`,
		`"\ud800"`, `"\u0070assword=x"`, `[1,-0.5e+3,true,false,null]`, `{"a":1,}`, `01`, "\"\x00\"",
		// Shapes a red team planted: JSON inside a string, escaped keys,
		// URL-encoded and presigned-URL signatures, context-only AWS
		// secrets, netrc, password hashes, a token glued to a tool name.
		`{"password":["ArrPass12345"]}`, `{"credentials":{"user":"u","pw":"ObjPass12345"}}`,
		`{\\"password\\":\\"x\\"}`, `{"pass\u0077ord":"x"}`, `"{\"pass\\u0077ord\": [\"x\"]}"`, `{"a":"[`, `password: {"x": "`,
		`AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, `SK2a0ef94e1a1c2b3d4e5f60718293a4b5`,
		`https://3f2a1b4c5d6e7f8091a2b3c4d5e6f708@o123.ingest.sentry.io/456`, `?X-Amz-Signature=fe5f80f7&sig=abc%3D`,
		`machine h login u password X`, `admin:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/`, `{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=`,
		`body=user%3Dbob%26password%3DX%26y%253D`, `get_ghp_CxIb0HgvEPwnATEdAZwJ0FU1MHCH0tiFAfGB`, `no valid credentials: bearer token`,
	} {
		f.Add(seed)
	}
	r := must(audit.NewRedactor())
	paths := []string{"a.b"}
	f.Fuzz(func(t *testing.T, s string) {
		// An input this slow is a hang: crash the worker so that the
		// fuzzer keeps it.
		watchdog := time.AfterFunc(fuzzHang, func() { panic(fmt.Sprintf("redacting %q took over %v", s, fuzzHang)) })
		defer watchdog.Stop()
		out := r.String(s)
		if again := r.String(s); again != out {
			t.Fatalf("String(%q) is not deterministic: %q / %q", s, out, again)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("String(%q) = %q is not valid UTF-8", s, out)
		}

		js := r.JSON([]byte(s), paths)
		if again := r.JSON([]byte(s), paths); !bytes.Equal(js, again) {
			t.Fatalf("JSON(%q) is not deterministic: %s / %s", s, js, again)
		}
		switch {
		case strings.TrimSpace(s) == "":
			if js != nil {
				t.Fatalf("JSON(%q) = %s, want nothing", s, js)
			}
		case !json.Valid(js):
			t.Fatalf("JSON(%q) = %q is not valid JSON", s, js)
		default:
			// The one-pass redactor must accept exactly what encoding/json
			// accepts: a valid document keeps its kind (object, array,
			// ...), anything else is kept as a string.
			in := bytes.TrimSpace([]byte(s))
			truncated := bytes.HasPrefix(js, []byte(`{"truncated":true,`))
			if json.Valid(in) && !truncated && kind(js[0]) != kind(in[0]) {
				t.Fatalf("JSON(%q) = %s: a valid document changed kind", s, js)
			}
			if !json.Valid(in) && !truncated && js[0] != '"' {
				t.Fatalf("JSON(%q) = %s: invalid input was not kept as a string", s, js)
			}
		}

		planted := []string{plantedToken, plantedPassword, plantedPath}
		for _, p := range planted {
			if strings.Contains(s, p) {
				return // the input itself carries it: nothing to tell apart
			}
		}
		leaks := func(what, out string) {
			t.Helper()
			for _, p := range planted {
				if strings.Contains(out, p) {
					t.Fatalf("%s of %q leaks %q: %s", what, s, p, out)
				}
			}
		}
		leaks("String, token after", r.String(s+" "+plantedToken))
		leaks("String, token before", r.String(plantedToken+" "+s))
		leaks("JSON, not JSON", string(r.JSON([]byte(s+" "+plantedToken), paths)))
		if json.Valid([]byte(s)) {
			doc := `{"v":` + s + `,"note":"deploy with ` + plantedToken + `","password":"` + plantedPassword +
				`","a":{"b":"` + plantedPath + `"},"list":[` + s + `,"` + plantedToken + `"]}`
			out := r.JSON([]byte(doc), paths)
			if !json.Valid(out) {
				t.Fatalf("JSON of %q is not valid JSON: %s", doc, out)
			}
			leaks("JSON document", string(out))
		}
	})
}

// kind classes the first byte of a JSON value: strings, numbers, literals
// of each name, objects and arrays.
func kind(c byte) byte {
	if c == '-' || '0' <= c && c <= '9' {
		return '0'
	}
	return c
}
