package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/examples/internal/servertest"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

// TestMCPCallersAreTheServicesOwnPrincipals: the go-sdk client
// authenticates with the service's existing API key; the tools it sees and
// may call follow that key's permissions, and the principal reaches the
// handler and the audit record.
func TestMCPCallersAreTheServicesOwnPrincipals(t *testing.T) {
	st := startService(t, newMemoryOrders(), 5*time.Second)
	ctx := context.Background()

	var prompts []string
	operator := connect(t, st.base, operatorKey, &mcp.ClientOptions{ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		prompts = append(prompts, req.Params.Message)
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
	}})
	assert.Equal(t, []string{"cancel_order", "get_order", "list_orders"}, toolNames(t, operator))
	reader := connect(t, st.base, readerKey, nil)
	assert.Equal(t, []string{"get_order", "list_orders"}, toolNames(t, reader), "orders:write tools are hidden from a read-only key")

	res, err := reader.CallTool(ctx, &mcp.CallToolParams{Name: "list_orders", Arguments: map[string]any{"status": "pending", "limit": 2}})
	require.NoError(t, err)
	var list OrderList
	structured(t, res, &list)
	require.Equal(t, 2, list.Count)
	for _, o := range list.Orders {
		assert.Equal(t, StatusPending, o.Status)
	}

	res, err = reader.CallTool(ctx, &mcp.CallToolParams{Name: "get_order", Arguments: map[string]any{"id": "ord_9999"}})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "order ord_9999 not found")

	// The identity mapped from the API key is who cancels the order.
	res, err = operator.CallTool(ctx, &mcp.CallToolParams{Name: "cancel_order", Arguments: map[string]any{"id": "ord_1002", "reason": "duplicate order"}})
	require.NoError(t, err)
	var cancelled Order
	structured(t, res, &cancelled)
	assert.Equal(t, StatusCancelled, cancelled.Status)
	assert.Equal(t, "operator", cancelled.CancelledBy)
	require.Len(t, prompts, 1, "the operator was asked once")
	assert.Contains(t, prompts[0], "operator wants to cancel order ord_1002: duplicate order")

	// A read-only key is refused before the tool runs (403 insufficient_scope).
	_, err = reader.CallTool(ctx, &mcp.CallToolParams{Name: "cancel_order", Arguments: map[string]any{"id": "ord_1004", "reason": "not allowed"}})
	require.Error(t, err)
	code, _, body := get(t, st.base+"/api/orders/ord_1004", readerKey)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(body), `"status":"pending"`, "the refused cancel changed nothing")

	require.NoError(t, st.stop(t))
	records := servertest.ReadAudit(t, st.auditPath)
	list1 := finalRecords(records, "list_orders")
	require.Len(t, list1, 1)
	assert.Equal(t, audit.Principal{Subject: "reader", Groups: []string{"support"}, Client: "test-agent/0.1.0", Auth: "api_key"}, list1[0].Principal)
	var cancels []string
	for _, r := range finalRecords(records, "cancel_order") {
		cancels = append(cancels, r.Principal.Subject+":"+r.Outcome)
	}
	assert.Contains(t, cancels, "operator:ok")
	assert.Contains(t, cancels, "reader:denied_scope")
	_, err = audit.Verify(st.auditKeys, st.auditPath)
	assert.NoError(t, err)
}

// TestCancelOrderNeedsTheCallersApproval: the destructive tool asks the
// human at the client; a decline leaves the order alone.
func TestCancelOrderNeedsTheCallersApproval(t *testing.T) {
	st := startService(t, newMemoryOrders(), 5*time.Second)
	declining := connect(t, st.base, operatorKey, decline())
	res, err := declining.CallTool(context.Background(), &mcp.CallToolParams{Name: "cancel_order", Arguments: map[string]any{"id": "ord_1007", "reason": "customer changed mind"}})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "cancel_order was not run")
	_, _, body := get(t, st.base+"/api/orders/ord_1007", operatorKey)
	assert.Contains(t, string(body), `"status":"pending"`)

	noElicitation := connect(t, st.base, operatorKey, nil)
	res, err = noElicitation.CallTool(context.Background(), &mcp.CallToolParams{Name: "cancel_order", Arguments: map[string]any{"id": "ord_1007", "reason": "customer changed mind"}})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "orders admin UI", "a client that cannot ask its user is told where else to go")

	require.NoError(t, st.stop(t))
	// The in-client approval is two rounds (ask, then the answer); each
	// round is on the record with its approval decision.
	var rounds []string
	for _, r := range finalRecords(servertest.ReadAudit(t, st.auditPath), "cancel_order") {
		require.NotNil(t, r.Approval)
		rounds = append(rounds, r.Approval.Decision+"/"+r.Outcome)
	}
	assert.Equal(t, []string{"pending/input_required", "denied/denied_approval", "unavailable/denied_approval"}, rounds)
}

// TestExistingEndpointsKeepTheirAuth: the REST API and health endpoints
// share the mux with MCP and still answer to the service's own auth.
func TestExistingEndpointsKeepTheirAuth(t *testing.T) {
	st := startService(t, newMemoryOrders(), 5*time.Second)

	code, h, _ := get(t, st.base+"/api/orders", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, `Bearer realm="orders"`, h.Get("WWW-Authenticate"))
	code, _, _ = get(t, st.base+"/api/orders", "sk_not_a_key_of_this_service_000")
	assert.Equal(t, http.StatusUnauthorized, code)

	code, _, body := get(t, st.base+"/api/orders?status=shipped", readerKey)
	require.Equal(t, http.StatusOK, code)
	var list struct{ Orders []Order }
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Orders, 1)
	assert.Equal(t, "ord_1003", list.Orders[0].ID)

	code, _, _ = do(t, http.MethodPost, st.base+"/api/orders/ord_1001/cancel", readerKey, `{"reason":"x"}`)
	assert.Equal(t, http.StatusForbidden, code, "the reader key lacks orders:write on REST as on MCP")
	code, _, body = do(t, http.MethodPost, st.base+"/api/orders/ord_1001/cancel", operatorKey, `{"reason":"fraud"}`)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(body), `"cancelled_by":"operator"`)
	code, _, _ = do(t, http.MethodPost, st.base+"/api/orders/ord_1003/cancel", operatorKey, `{"reason":"late"}`)
	assert.Equal(t, http.StatusConflict, code, "shipped orders cannot be cancelled")

	for _, path := range []string{"/healthz", "/readyz"} {
		code, _, _ = get(t, st.base+path, "")
		assert.Equal(t, http.StatusOK, code, path)
	}
}

// TestUnauthenticatedMCPRequestIs401WithChallenge: no key or an unknown
// key gets 401 with a Bearer challenge, and the refusal is audited.
func TestUnauthenticatedMCPRequestIs401WithChallenge(t *testing.T) {
	st := startService(t, newMemoryOrders(), 5*time.Second)
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

	code, h, _ := do(t, http.MethodPost, st.base+"/mcp", "", initialize)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, `Bearer resource_metadata="`+st.base+`/.well-known/oauth-protected-resource/mcp"`, h.Get("WWW-Authenticate"))

	code, h, _ = do(t, http.MethodPost, st.base+"/mcp", "sk_not_a_key_of_this_service_000", initialize)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Contains(t, h.Get("WWW-Authenticate"), `error="invalid_token"`)

	_, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).
		Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: st.base + "/mcp", HTTPClient: keyClient("")}, nil)
	require.Error(t, err, "the go-sdk client without the service's key cannot connect")

	require.NoError(t, st.stop(t))
	records := servertest.ReadAudit(t, st.auditPath)
	require.GreaterOrEqual(t, len(records), 3)
	for _, r := range records {
		assert.Equal(t, audit.OutcomeUnauthenticated, r.Outcome)
		assert.NotContains(t, r.Error, "sk_not_a_key", "the presented key never reaches the record")
	}
}

// TestTelemetryReachesTheServicesProviders: the call spans, the duration
// metric and the audit log records go to the providers the service set
// up, and the tool-call span nests under the service's own request span.
func TestTelemetryReachesTheServicesProviders(t *testing.T) {
	st := startService(t, newMemoryOrders(), 5*time.Second)
	cs := connect(t, st.base, operatorKey, nil)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_order", Arguments: map[string]any{"id": "ord_1005"}})
	require.NoError(t, err)
	require.False(t, res.IsError, mcpkittest.Text(res))

	var rm metricdata.ResourceMetrics
	require.NoError(t, st.metrics.Collect(context.Background(), &rm))
	var durations []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			durations = append(durations, sm.Scope.Name+" "+m.Name)
		}
	}
	assert.Contains(t, durations, audit.ScopeName+" mcp.server.operation.duration")

	require.NoError(t, st.stop(t))

	spans := st.spans.GetSpans()
	var call, parent int = -1, -1
	for i, s := range spans {
		if s.Name == "tools/call get_order" {
			call = i
		}
	}
	require.NotEqual(t, -1, call, "a tools/call span reached the service's TracerProvider")
	assert.Equal(t, trace.SpanKindServer, spans[call].SpanKind)
	assert.Contains(t, spans[call].Attributes, attribute.String("gen_ai.tool.name", "get_order"))
	for i, s := range spans {
		if s.SpanContext.SpanID() == spans[call].Parent.SpanID() {
			parent = i
		}
	}
	require.NotEqual(t, -1, parent, "the call span has a parent in the same provider")
	assert.Equal(t, "HTTP POST", spans[parent].Name, "the parent is the service's own request span")

	var found bool
	for _, r := range st.logs.all() {
		if r.EventName() != audit.EventName {
			continue
		}
		attrs := map[string]string{}
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			attrs[string(kv.Key)] = kv.Value.String()
			return true
		})
		if attrs["tool"] == "get_order" {
			found = true
			assert.Equal(t, "operator", attrs["principal.subject"])
			assert.Equal(t, "api_key", attrs["principal.auth"])
			assert.Equal(t, spans[call].SpanContext.TraceID().String(), attrs["trace_id"])
			assert.NotEmpty(t, attrs["hash"], "the log copy carries the file chain's position")
		}
	}
	assert.True(t, found, "the audit record reached the service's LoggerProvider")
}

// TestShutdownLetsAnInFlightCallFinish: cancelling the service's context
// (SIGTERM) closes the listener at once but lets the running tool call
// finish; then Serve returns and the audit file verifies.
func TestShutdownLetsAnInFlightCallFinish(t *testing.T) {
	orders := newSlowOrders()
	st := startService(t, orders, 5*time.Second)
	cs := connect(t, st.base, operatorKey, nil)
	result := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_order", Arguments: map[string]any{"id": "ord_1002"}})
		assert.NoError(t, err)
		result <- res
	}()
	waitFor(t, orders.started, "the call to reach the store")
	st.cancel()

	// The service has begun to stop: no new connections, but the call is
	// still running and Serve has not returned.
	require.Eventually(t, func() bool {
		_, err := http.Get(st.base + "/healthz")
		return err != nil
	}, 5*time.Second, 10*time.Millisecond, "the listener closes when shutdown begins")
	select {
	case err := <-st.done:
		t.Fatalf("Serve returned (%v) while a call was in flight", err)
	default:
	}

	close(orders.release)
	var res *mcp.CallToolResult
	select {
	case res = <-result:
	case <-time.After(5 * time.Second):
		t.Fatal("the in-flight call did not complete")
	}
	var o Order
	structured(t, res, &o)
	assert.Equal(t, "ord_1002", o.ID)
	require.NoError(t, st.stop(t))

	v, err := audit.Verify(st.auditKeys, st.auditPath)
	require.NoError(t, err)
	assert.Equal(t, 1, v.Calls)
	rec := finalRecords(servertest.ReadAudit(t, st.auditPath), "get_order")
	require.Len(t, rec, 1)
	assert.Equal(t, "ok", rec[0].Outcome)
}

// TestShutdownIsBounded: a call that would run forever is cut off at the
// shutdown bound; Serve returns and the cut-off call's final record is in
// the verified audit file.
func TestShutdownIsBounded(t *testing.T) {
	const bound = 300 * time.Millisecond
	orders := newSlowOrders() // never released
	st := startService(t, orders, bound)
	cs := connect(t, st.base, operatorKey, nil)
	callErr := make(chan error, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_order", Arguments: map[string]any{"id": "ord_1002"}})
		if err == nil && !res.IsError {
			t.Errorf("the stuck call succeeded: %s", mcpkittest.Text(res))
		}
		callErr <- err
	}()
	waitFor(t, orders.started, "the call to reach the store")
	began := time.Now()
	require.NoError(t, st.stop(t))
	took := time.Since(began)
	assert.GreaterOrEqual(t, took, bound, "shutdown waited for the call up to the bound")
	assert.Less(t, took, bound+flushTimeout+time.Second, "and no longer")
	select {
	case <-callErr:
	case <-time.After(5 * time.Second):
		t.Fatal("the client call did not end when its connection was closed")
	}

	_, err := audit.Verify(st.auditKeys, st.auditPath)
	require.NoError(t, err)
	rec := finalRecords(servertest.ReadAudit(t, st.auditPath), "get_order")
	require.Len(t, rec, 1, "the cut-off call's final record was written before the file closed")
	assert.NotEqual(t, "ok", rec[0].Outcome)
}

// TestRunPrintsHowToCallIt: go run ./examples/embed on a fresh machine
// makes development keys, listens on loopback and says how to call it.
func TestRunPrintsHowToCallIt(t *testing.T) {
	t.Setenv(envAPIKeys, "")
	t.Setenv(envApprovalKeys, "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	var stderr servertest.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-audit", t.TempDir() + "/a.jsonl", "-shutdown-timeout", "2s"}, &stderr)
	}()
	var base, key string
	require.Eventually(t, func() bool {
		out := stderr.String()
		_, rest, ok := strings.Cut(out, "orders service on ")
		if !ok || !strings.Contains(out, "npx @modelcontextprotocol/inspector") {
			return false
		}
		base, _, _ = strings.Cut(rest, " ")
		_, rest, _ = strings.Cut(out, "operator (orders:read, orders:write) ")
		key, _, _ = strings.Cut(rest, "\n")
		return true
	}, 10*time.Second, 10*time.Millisecond, stderr.String())
	assert.Contains(t, stderr.String(), "claude mcp add --transport http orders "+base+"/mcp")
	code, _, _ := get(t, base+"/api/orders", key)
	assert.Equal(t, http.StatusOK, code, "the printed key works on the printed URL")
	cs := connect(t, base, key, nil)
	assert.Len(t, toolNames(t, cs), 3)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return")
	}
}

func TestBadConfigurationIsRefused(t *testing.T) {
	t.Setenv(envAPIKeys, "")
	_, _, err := loadAPIKeys("0.0.0.0:8090")
	assert.ErrorContains(t, err, "set $ORDERS_API_KEYS")
	for _, bad := range []string{"alice:team:orders:read:short", "alice:orders:read", ":t:orders:read:" + readerKey, testKeys + "," + testKeys} {
		_, err := ParseAPIKeys(bad)
		assert.Error(t, err, bad)
		assert.NotContains(t, err.Error(), readerKey, "an error never echoes a key")
	}
	_, err = NewService(Config{})
	assert.ErrorContains(t, err, "required")
}
