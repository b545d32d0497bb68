// Package ratelimit limits tool calls per caller and per tool or risk
// class: 20 read-only calls a second, 2 destructive calls a minute, per
// subject.
//
//	rules, err := ratelimit.ParseRules("read_only=20/s,write=5/m,destructive=2/m,tool:delete_incident=1/m")
//	if err != nil {
//		return err
//	}
//	limiter, err := ratelimit.NewMemory() // one replica
//	if err != nil {
//		return err
//	}
//	gate, err := ratelimit.NewGate(limiter, rules)
//	if err != nil {
//		return err
//	}
//	srv, err := mcpkit.NewServer(impl,
//		mcpkit.WithMiddleware(auditor.Middleware()),
//		mcpkit.WithGates(gate, mcpkit.ScopeGate())) // then the flags gate, if any
//
// # Where it sits
//
// The Gate is an mcpkit.Gate, so a limited call is refused and reported
// (outcome denied_rate in the audit record), never silently dropped. Put
// it first among the gates, before ScopeGate: every call is then counted,
// including the ones a later gate refuses, so a caller hammering a tool it
// may not use is limited like any other. Audit stays outside it and
// records each refusal.
//
// On tools/list the gate allows every tool: a limited tool is busy for a
// while, not forbidden, so it stays listed, and listing costs no budget.
//
// Keys: each subject (mcpkit.Identity.Subject) has its own bucket per risk
// class and per tool with a limit of its own. A class limit is one budget
// shared by all the class's tools; a tool limit replaces its class's. A
// tool whose class and name have no limit is not counted. Callers without
// a subject (a server without authentication) share one bucket.
//
// # Decisions and failures
//
// A refused call gets an isError result naming the limit and when to retry
// ("retry in 27 seconds"), and its handler does not run. A refused call
// takes nothing from the bucket, so a caller that waits as told gets
// through. A Limiter that errors refuses the call as unavailable (fail
// closed); the cause is on the audit record, not sent to the caller.
//
// A shared limiter can fail while the database or Redis behind it is
// away. WithFallback(replicas, risks...) keeps the listed risk classes
// going meanwhile: their calls are decided in this process's memory at
// 1/replicas of each limit (the same rate spread over replicas, the burst
// divided, at least 1), so the fleet together grants at most the limit's
// rate with a burst of at most max(Burst, replicas). A local bucket starts
// full, whatever the caller had spent of its shared one, so the period in
// which an outage begins can grant up to one burst more. Calls of the
// other classes are refused as unavailable. After a failure the limiter is asked again once a second,
// not on every call, and decides again as soon as it answers. WithLogger
// gets one warning when an outage starts and one line when it ends.
// Typically: WithFallback(3, mcpkit.ReadOnly) - reads go on, a destructive
// call waits for the shared limit.
//
// Over HTTP the transport can answer before the call: with
// transport.WithRateLimit(gate) a request carrying one tools/call (or
// being one resources/read or prompts/get) is decided by the transport,
// which answers 429 Too Many Requests with Retry-After. It asks through
// Gate.AdmitBefore, which charges the call exactly as Check would (same
// rule, bucket and key, decided by one function) and returns an
// Admission mark that Check recognises, so the gate does not count the
// call again: one decision per call, whichever layer makes it.
//
// # Limiters
//
// Limiter is the interface a shared store implements (Allow takes one
// event from a key's bucket or says how long to wait); Func adapts a
// function. Memory, on golang.org/x/time/rate, serves one replica: with N
// replicas behind a load balancer each grants the full limit, so the
// effective limit is up to N times the spec. It forgets a key once its
// bucket has refilled (which changes no decision), so memory holds only
// recently active keys, and it tracks at most WithMaxKeys keys (default
// DefaultMaxKeys): at the cap a new key is refused (ErrTooManyKeys, the
// call is unavailable) rather than forgetting a busy one. BenchmarkMemoryAllow measures
// about 5 million decisions a second on two cores, so the limiter is not
// what bounds a server's call rate. A limiter shared across replicas is
// pgstate.NewLimiter (PostgreSQL, module github.com/mcpkit-go/mcpkit/pgstate);
// any other plugs in as a Limiter (check it with mcpkittest.TestLimiter).
package ratelimit
