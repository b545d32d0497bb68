package flags

import "fmt"

// Reason says why the gate refused a tool.
type Reason string

// Reasons, as recorded in a Denial.
const (
	// ReasonOff: the flag evaluated to false.
	ReasonOff Reason = "off"
	// ReasonMissing: the flag does not exist and the tool's risk
	// defaults to off.
	ReasonMissing Reason = "missing_default_off"
	// ReasonNotReady: the provider is not ready or has failed fatally.
	ReasonNotReady Reason = "provider_not_ready"
	// ReasonTypeMismatch: the flag is not a boolean.
	ReasonTypeMismatch Reason = "type_mismatch"
	// ReasonTimeout: the provider did not answer in time.
	ReasonTimeout Reason = "timeout"
	// ReasonPanic: the provider panicked.
	ReasonPanic Reason = "panic"
	// ReasonCanceled: the request ended before the flag was evaluated.
	ReasonCanceled Reason = "canceled"
	// ReasonError: any other evaluation error.
	ReasonError Reason = "error"
)

// Denial is the internal cause of a flag denial, for the audit record. The
// client sees only the *mcpkit.Error's message.
type Denial struct {
	// FlagKey is the flag that decided.
	FlagKey string
	Reason  Reason
	// Variant and EvalReason are what the provider reported, if anything.
	Variant    string
	EvalReason string
	// Err is the evaluation error, if any.
	Err error
}

func (d *Denial) Error() string {
	s := fmt.Sprintf("flag %s: %s", d.FlagKey, d.Reason)
	if d.Variant != "" {
		s += " (variant " + d.Variant + ")"
	}
	if d.EvalReason != "" {
		s += " [" + d.EvalReason + "]"
	}
	if d.Err != nil {
		s += ": " + d.Err.Error()
	}
	return s
}

// Unwrap returns the evaluation error.
func (d *Denial) Unwrap() error { return d.Err }
