package pgstate

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/approval"
	"github.com/mcpkit-go/mcpkit/mcpkit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

type deleteIn struct {
	ID string `json:"id" jsonschema:"description=Item id"`
}

type deleteOut struct {
	Deleted string `json:"deleted" jsonschema:"description=Deleted id"`
}

// elicitReplica is one server of a fleet: in-client approval signed with
// keys, single use through the PostgreSQL replay cache on its own pool.
// runs counts the handler's runs.
func elicitReplica(t *testing.T, db *pgxpool.Pool, keys []approval.Key, runs *atomic.Int32) *mcp.ClientSession {
	t.Helper()
	kr, err := approval.NewKeyring(keys...)
	require.NoError(t, err)
	el, err := approval.Elicit(approval.ElicitConfig{Keys: kr, Replay: newReplay(t, replica(t, db))})
	require.NoError(t, err)
	srv := mcpkit.MustNewServer(&mcp.Implementation{Name: "fleet", Version: "1.0.0"},
		mcpkit.WithInnerMiddleware(approval.MustNew(el)),
		mcpkit.WithIdentityResolver(func(_ context.Context, req mcp.Request) (mcpkit.Identity, error) {
			if r, ok := req.(*mcp.CallToolRequest); ok && r.ClientInfo() != nil {
				return mcpkit.Identity{Subject: r.ClientInfo().Name, AuthMethod: "test"}, nil
			}
			return mcpkit.Identity{}, errors.New("no client name")
		}))
	mcpkit.MustAddTool(srv, mcpkit.Tool{Name: "delete_item", Description: "Delete an item.",
		Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Public: true}},
		func(_ context.Context, in deleteIn) (deleteOut, error) {
			runs.Add(1)
			return deleteOut{Deleted: in.ID}, nil
		})
	// The client does its own round trips, so the test can carry a state
	// from one replica to another, as a load balancer does.
	return mcpkittest.NewHarness(t, srv, mcpkittest.WithClientInfo("alice", "1"), mcpkittest.WithClientOptions(&mcp.ClientOptions{
		MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true},
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "decline"}, nil
		},
	})).Session
}

func key(t *testing.T, id string) approval.Key {
	t.Helper()
	secret := make([]byte, approval.MinKeySize)
	_, _ = rand.Read(secret)
	return approval.Key{ID: id, Secret: secret}
}

func firstRound(t *testing.T, cs *mcp.ClientSession, id string) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_item", Arguments: map[string]any{"id": id}})
	require.NoError(t, err)
	require.True(t, res.NeedsInput(), "first round did not ask: %s", mcpkittest.Text(res))
	return res.RequestState
}

func secondRound(t *testing.T, cs *mcp.ClientSession, id, state string) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{
		Name: "delete_item", Arguments: map[string]any{"id": id}, RequestState: state,
		InputResponses: mcp.InputResponseMap{approval.InputRequestID: &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}},
	})
	require.NoError(t, err)
	return res
}

// The 2026-07-28 multi round-trip lands its second round on any replica:
// replicas sharing the approval keys and the replay cache accept each
// other's states, exactly once fleet-wide.
func TestFleetAcceptsAStateOnAnyReplicaOnce(t *testing.T) {
	db := migrated(t)
	keys := []approval.Key{key(t, "k1")}
	var runs atomic.Int32
	a, b, c := elicitReplica(t, db, keys, &runs), elicitReplica(t, db, keys, &runs), elicitReplica(t, db, keys, &runs)

	st := firstRound(t, a, "x")
	res := secondRound(t, b, "x", st)
	require.False(t, res.IsError, "a state issued by replica A was refused by replica B: %s", mcpkittest.Text(res))
	require.EqualValues(t, 1, runs.Load())

	for name, cs := range map[string]*mcp.ClientSession{"issuer": a, "same replica": b, "third": c} {
		res := secondRound(t, cs, "x", st)
		assert.True(t, res.IsError, "replay on %s accepted", name)
		assert.Contains(t, mcpkittest.Text(res), "already been used", name)
	}
	assert.EqualValues(t, 1, runs.Load(), "a replayed state ran the handler again")

	// A replica with other keys refuses the fleet's states.
	var strangerRuns atomic.Int32
	stranger := elicitReplica(t, db, []approval.Key{key(t, "k1")}, &strangerRuns)
	res = secondRound(t, stranger, "y", firstRound(t, a, "y"))
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "does not verify")
	assert.Zero(t, strangerRuns.Load())
}

// Rotation across a fleet: replicas are restarted with the new key added
// last (it signs; the previous key still verifies), then, once states
// under the previous key have expired, without it. States issued under k1
// by a replica not yet rotated are accepted by rotated ones; a keyring
// without k1 refuses them.
func TestFleetKeyRotationKeepsStatesOfThePreviousKey(t *testing.T) {
	db := migrated(t)
	k1, k2 := key(t, "k1"), key(t, "k2")
	var runs atomic.Int32
	old := elicitReplica(t, db, []approval.Key{k1}, &runs)
	rotated := elicitReplica(t, db, []approval.Key{k1, k2}, &runs)

	st := firstRound(t, old, "x")
	require.True(t, strings.HasPrefix(st, "a1.k1."))
	res := secondRound(t, rotated, "x", st)
	require.False(t, res.IsError, "a state under the previous key was refused after rotation: %s", mcpkittest.Text(res))

	st2 := firstRound(t, rotated, "y")
	require.True(t, strings.HasPrefix(st2, "a1.k2."), "a rotated replica signs with the newest key")
	require.EqualValues(t, 1, runs.Load())

	retired := elicitReplica(t, db, []approval.Key{k2}, &runs)
	res = secondRound(t, retired, "z", firstRound(t, old, "z"))
	assert.True(t, res.IsError)
	assert.Contains(t, mcpkittest.Text(res), "retired key")
	res = secondRound(t, retired, "y", st2)
	assert.False(t, res.IsError, "a k2 state refused by a replica with k2: %s", mcpkittest.Text(res))
	assert.EqualValues(t, 2, runs.Load())
}
