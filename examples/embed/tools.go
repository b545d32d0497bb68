package main

import (
	"context"
	"errors"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// The MCP tools: thin typed wrappers over the service's existing
// OrderStore, with the service's existing permissions as scopes.

// ListOrdersIn is list_orders' input.
type ListOrdersIn struct {
	Status string `json:"status,omitempty" jsonschema:"description=Only orders with this status,enum=pending,enum=paid,enum=shipped,enum=cancelled"`
	Limit  int    `json:"limit,omitempty" jsonschema:"description=At most this many orders; 20 if not given,minimum=1,maximum=100"`
}

// OrderList is list_orders' result.
type OrderList struct {
	Orders []Order `json:"orders"`
	Count  int     `json:"count"`
}

// GetOrderIn is get_order's input.
type GetOrderIn struct {
	ID string `json:"id" jsonschema:"description=Order id such as ord_1001,pattern=^ord_[0-9]{4}$"`
}

// CancelOrderIn is cancel_order's input.
type CancelOrderIn struct {
	ID     string `json:"id" jsonschema:"description=Order id such as ord_1001,pattern=^ord_[0-9]{4}$"`
	Reason string `json:"reason" jsonschema:"description=Why the order is cancelled; shown to the customer and kept in the audit record,minLength=3,maxLength=200"`
}

func addTools(srv *mcpkit.Server, orders OrderStore) error {
	read := mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{PermOrdersRead}}
	return errors.Join(
		mcpkit.AddTool(srv, mcpkit.Tool{
			Name:        "list_orders",
			Title:       "List orders",
			Description: "List orders, oldest first, optionally only those with one status. Use get_order for one order's details.",
			Policy:      read,
		}, func(ctx context.Context, in ListOrdersIn) (OrderList, error) {
			if in.Limit == 0 {
				in.Limit = 20
			}
			list, err := orders.List(ctx, in.Status, in.Limit)
			if err != nil {
				return OrderList{}, err
			}
			return OrderList{Orders: list, Count: len(list)}, nil
		}),
		mcpkit.AddTool(srv, mcpkit.Tool{
			Name:        "get_order",
			Title:       "Get an order",
			Description: "Get one order by id: customer, status, total and, for a cancelled order, who cancelled it and why.",
			Policy:      read,
		}, func(ctx context.Context, in GetOrderIn) (Order, error) {
			o, err := orders.Get(ctx, in.ID)
			return o, publicStoreError(in.ID, err)
		}),
		mcpkit.AddTool(srv, mcpkit.Tool{
			Name:  "cancel_order",
			Title: "Cancel an order",
			Description: "Cancel a pending or paid order; shipped orders cannot be cancelled. " +
				"The customer is notified and this cannot be undone, so a human approves each call.",
			// Destructive: approval is required by default.
			Policy: mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{PermOrdersWrite}, Idempotent: true},
		}, func(ctx context.Context, in CancelOrderIn) (Order, error) {
			// The caller is the principal of the service's own API key,
			// mapped to an mcpkit.Identity by the transport.
			c, _ := mcpkit.CallFromContext(ctx)
			by := c.Identity.Subject
			o, err := orders.Cancel(ctx, in.ID, by, in.Reason)
			return o, publicStoreError(in.ID, err)
		}),
	)
}

// publicStoreError turns the store's domain errors into messages the model
// can act on; anything else stays internal (audit record only).
func publicStoreError(id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return mcpkit.PublicError("order %s not found; list_orders shows existing ids", id)
	case errors.Is(err, ErrNotCancellable):
		return mcpkit.PublicError("order %s was not cancelled: %v", id, err)
	default:
		return err
	}
}
