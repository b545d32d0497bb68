package mcpkittest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpkit-go/mcpkit/audit"
)

// SinkUnderTest is an audit sink and a way to read back what reached its
// destination.
type SinkUnderTest struct {
	Sink audit.Sink
	// Records returns the call records that have reached the sink's
	// destination, oldest first (a file sink's genesis and checkpoint
	// lines left out). The check calls audit.Flush first.
	Records func() ([]audit.Record, error)
}

// TestSink checks that the sinks newSink returns meet the audit.Sink
// contract: a record Write accepts reaches the destination once, in order,
// with its fields; Write changes nothing in the record but the chain fields;
// 32 goroutines writing at once lose and duplicate nothing; an error means
// the record was not taken (the middleware refuses the call on it, so a
// record both refused and kept would describe a call that never ran); and a
// sink that is an audit.Closer delivers everything on Close and refuses
// later writes. newSink is called once per subtest.
func TestSink(t testing.TB, newSink func(t testing.TB) SinkUnderTest) {
	t.Helper()
	conform(runnerFor(t), sinkChecks(), newSink)
}

// sampleRecord is a call record with the fields a sink must keep.
func sampleRecord(i int) *audit.Record {
	return &audit.Record{
		ID:              randomID("call-"),
		Time:            audit.Time{Time: time.Now().UTC().Truncate(time.Millisecond)},
		Server:          audit.ServerInfo{Name: "mcpkittest", Version: "1"},
		Principal:       audit.Principal{Subject: "alice", Email: "alice@example.com", Client: "agent/1", Auth: "jwt"},
		ProtocolVersion: "2026-07-28",
		Tool:            "update_incident",
		Risk:            "write",
		Arguments:       json.RawMessage(fmt.Sprintf(`{"id":"INC-%d","token":"[REDACTED]"}`, i)),
		Outcome:         "ok",
		Result:          json.RawMessage(`{"updated":true}`),
		DurationMS:      1.5,
	}
}

// keptFields is what TestSink compares between a record written and the
// one read back.
func keptFields(r audit.Record) string {
	var args any
	_ = json.Unmarshal(r.Arguments, &args)
	return fmt.Sprintf("id=%s tool=%s outcome=%s subject=%s arguments=%v", r.ID, r.Tool, r.Outcome, r.Principal.Subject, args)
}

// unchained is r's JSON without the chain fields a file sink fills in
// (its place in the chain and the instance that wrote it).
func unchained(r *audit.Record) []byte {
	c := *r
	c.Seq, c.PrevHash, c.Kid, c.Hash, c.Instance = 0, "", "", "", ""
	b, _ := c.AppendJSON(nil)
	return b
}

func sinkChecks() []conformCheck[func(testing.TB) SinkUnderTest] {
	type factory = func(testing.TB) SinkUnderTest
	bg := context.Background()
	read := func(t testing.TB, s SinkUnderTest) []audit.Record {
		t.Helper()
		if err := audit.Flush(bg, s.Sink); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		recs, err := s.Records()
		if err != nil {
			t.Fatalf("reading the records back: %v", err)
		}
		return recs
	}
	count := func(recs []audit.Record, id string) int {
		n := 0
		for _, r := range recs {
			if r.ID == id {
				n++
			}
		}
		return n
	}
	return []conformCheck[factory]{
		{"written records arrive once, in order, with their fields", func(t testing.TB, f factory) {
			s := f(t)
			var want []string
			for i := range 5 {
				r := sampleRecord(i)
				want = append(want, keptFields(*r))
				if err := s.Sink.Write(bg, r); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			var got []string
			for _, r := range read(t, s) {
				got = append(got, keptFields(r))
			}
			if !slices.Equal(got, want) {
				t.Errorf("the destination holds\n  %v\nwant\n  %v", got, want)
			}
		}},
		{"Write changes nothing but the chain fields", func(t testing.TB, f factory) {
			s, r := f(t), sampleRecord(0)
			before := unchained(r)
			if err := s.Sink.Write(bg, r); err != nil {
				t.Fatalf("Write: %v", err)
			}
			_ = audit.Flush(bg, s.Sink)
			if after := unchained(r); !bytes.Equal(before, after) {
				t.Errorf("Write changed the record, which other sinks and the caller share:\nbefore %s\nafter  %s", before, after)
			}
		}},
		{"32 concurrent writers lose and duplicate nothing", func(t testing.TB, f factory) {
			s := f(t)
			const each = 4
			ids := make([]string, concurrency*each)
			var failed atomic.Int32
			together(concurrency, func(g int) {
				for j := range each {
					r := sampleRecord(g*each + j)
					ids[g*each+j] = r.ID
					if s.Sink.Write(bg, r) != nil {
						failed.Add(1)
					}
				}
			})
			if n := failed.Load(); n != 0 {
				t.Fatalf("%d concurrent writes failed", n)
			}
			recs := read(t, s)
			for _, id := range ids {
				if n := count(recs, id); n != 1 {
					t.Fatalf("record %s arrived %d times, want once (%d records for %d writes)", id, n, len(recs), len(ids))
				}
			}
			if len(recs) != len(ids) {
				t.Errorf("%d records arrived for %d writes", len(recs), len(ids))
			}
		}},
		{"an error means the record was not taken", func(t testing.TB, f factory) {
			s := f(t)
			ctx, cancel := context.WithCancel(bg)
			cancel()
			var refused, taken []string
			for i := range 8 {
				r := sampleRecord(i)
				if err := s.Sink.Write(ctx, r); err != nil {
					refused = append(refused, r.ID)
				} else {
					taken = append(taken, r.ID)
				}
			}
			recs := read(t, s)
			for _, id := range refused {
				if count(recs, id) != 0 {
					t.Errorf("record %s was refused with an error and still arrived: the audit log would show a call that was refused", id)
				}
			}
			for _, id := range taken {
				if count(recs, id) != 1 {
					t.Errorf("record %s was accepted and did not arrive", id)
				}
			}
		}},
		{"Close delivers everything and later writes fail", func(t testing.TB, f factory) {
			s := f(t)
			if _, ok := s.Sink.(audit.Closer); !ok {
				t.Skip("the sink is not an audit.Closer")
			}
			var ids []string
			for i := range 3 {
				r := sampleRecord(i)
				if err := s.Sink.Write(bg, r); err != nil {
					t.Fatalf("Write: %v", err)
				}
				ids = append(ids, r.ID)
			}
			if err := audit.Close(bg, s.Sink); err != nil {
				t.Fatalf("Close: %v", err)
			}
			late := sampleRecord(3)
			if err := s.Sink.Write(bg, late); err == nil {
				t.Error("Write after Close returned nil: a record would be acknowledged and lost")
			}
			recs, err := s.Records()
			if err != nil {
				t.Fatalf("reading the records back: %v", err)
			}
			for _, id := range ids {
				if count(recs, id) != 1 {
					t.Errorf("record %s, written before Close, did not arrive", id)
				}
			}
			if count(recs, late.ID) != 0 {
				t.Error("a record written after Close arrived")
			}
		}},
	}
}

// WitnessUnderTest is an audit witness and a way to read back the
// checkpoints it kept.
type WitnessUnderTest struct {
	Witness audit.Witness
	// Checkpoints returns the checkpoints the witness kept, oldest first.
	Checkpoints func() ([]audit.Checkpoint, error)
}

// TestWitness checks that the witnesses newWitness returns meet the
// audit.Witness contract: each checkpoint is kept in order with every field
// (the signature included, or a verifier could not trust the copy); an
// error means the checkpoint was not kept; a witness that is an io.Closer
// refuses checkpoints after Close; and, behind a real keyed file sink, the
// kept checkpoints let audit.VerifyWith accept the log. The witness is
// called from one goroutine at a time, as the file sink does. newWitness is
// called once per subtest.
func TestWitness(t testing.TB, newWitness func(t testing.TB) WitnessUnderTest) {
	t.Helper()
	conform(runnerFor(t), witnessChecks(), newWitness)
}

func sampleCheckpoint(log string, seq uint64) audit.Checkpoint {
	return audit.Checkpoint{Log: log, Instance: "instance-1", Seq: seq, Hash: fmt.Sprintf("%064x", seq),
		Time: audit.Time{Time: time.Now().UTC().Truncate(time.Millisecond)}, Reason: "records", Kid: "k1", MAC: fmt.Sprintf("%064x", seq*7)}
}

func sameCheckpoint(a, b audit.Checkpoint) bool {
	return a.Time.Equal(b.Time.Time) && a.Log == b.Log && a.Instance == b.Instance && a.Seq == b.Seq &&
		a.Hash == b.Hash && a.Reason == b.Reason && a.Kid == b.Kid && a.MAC == b.MAC
}

func witnessChecks() []conformCheck[func(testing.TB) WitnessUnderTest] {
	type factory = func(testing.TB) WitnessUnderTest
	bg := context.Background()
	kept := func(t testing.TB, w WitnessUnderTest) []audit.Checkpoint {
		t.Helper()
		cps, err := w.Checkpoints()
		if err != nil {
			t.Fatalf("reading the checkpoints back: %v", err)
		}
		return cps
	}
	has := func(cps []audit.Checkpoint, c audit.Checkpoint) bool {
		return slices.ContainsFunc(cps, func(k audit.Checkpoint) bool { return sameCheckpoint(k, c) })
	}
	return []conformCheck[factory]{
		{"checkpoints are kept in order with every field", func(t testing.TB, f factory) {
			w, log := f(t), randomID("")
			var want []audit.Checkpoint
			for seq := uint64(10); seq <= 50; seq += 10 {
				c := sampleCheckpoint(log, seq)
				if err := w.Witness.Checkpoint(bg, c); err != nil {
					t.Fatalf("Checkpoint: %v", err)
				}
				want = append(want, c)
			}
			var got []audit.Checkpoint
			for _, c := range kept(t, w) {
				if c.Log == log {
					got = append(got, c)
				}
			}
			if !slices.EqualFunc(got, want, sameCheckpoint) {
				t.Errorf("the witness kept\n  %+v\nwant\n  %+v", got, want)
			}
		}},
		{"an error means the checkpoint was not kept", func(t testing.TB, f factory) {
			w := f(t)
			ctx, cancel := context.WithCancel(bg)
			cancel()
			c := sampleCheckpoint(randomID(""), 1)
			err := w.Witness.Checkpoint(ctx, c)
			if got := has(kept(t, w), c); got == (err != nil) {
				t.Errorf("Checkpoint with a done context returned %v and the checkpoint is kept: %v", err, got)
			}
		}},
		{"a closed witness refuses checkpoints", func(t testing.TB, f factory) {
			w := f(t)
			cl, ok := w.Witness.(io.Closer)
			if !ok {
				t.Skip("the witness is not an io.Closer")
			}
			if err := cl.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			c := sampleCheckpoint(randomID(""), 1)
			if err := w.Witness.Checkpoint(bg, c); err == nil {
				t.Error("Checkpoint after Close returned nil: a lost checkpoint would look kept")
			}
			if has(kept(t, w), c) {
				t.Error("a checkpoint sent after Close was kept")
			}
		}},
		{"behind a keyed file sink the kept checkpoints verify the log", func(t testing.TB, f factory) {
			w := f(t)
			dir, err := os.MkdirTemp("", "mcpkittest-witness-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			secret := make([]byte, 32)
			copy(secret, randomID(""))
			keys, err := audit.NewKeyring(audit.Key{ID: "k1", Secret: secret})
			if err != nil {
				t.Fatal(err)
			}
			path := dir + "/audit.jsonl"
			sink, err := audit.Open(path, audit.WithKeyring(keys), audit.WithCheckpoints(2, time.Hour), audit.WithWitness(w.Witness))
			if err != nil {
				t.Fatalf("audit.Open: %v", err)
			}
			for i := range 5 {
				if err := sink.Write(bg, sampleRecord(i)); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			if err := sink.Close(bg); err != nil {
				t.Fatalf("Close: %v", err)
			}
			log := sink.Recovered().Log
			var cps []audit.Checkpoint
			for _, c := range kept(t, w) {
				if c.Log == log {
					cps = append(cps, c)
				}
			}
			if len(cps) < 3 {
				t.Fatalf("the witness kept %d checkpoints of the log (open, every 2 records, close), want at least 3", len(cps))
			}
			res, err := audit.VerifyWith(audit.VerifyConfig{Keys: keys, Checkpoints: cps}, path)
			if err != nil {
				t.Fatalf("VerifyWith the kept checkpoints: %v", err)
			}
			if len(res.Problems) > 0 {
				t.Errorf("the log does not verify against the kept checkpoints: %v", res.Problems)
			}
		}},
	}
}
